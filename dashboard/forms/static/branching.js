/* Klik forms: show and hide questions while a page is answered.
 *
 * Reads the conditions the server put on the page (data-show on .klik-branch, REDCap's logic
 * as a JSON tree, see questionnaires/logic.py) and the answers it cannot read from the page
 * (#klik-logic: other pages, earlier waves). The server decides in the end: it evaluates the
 * same conditions when the page is saved, so the form also works without this script.
 */
(function () {
  "use strict";
  var logic = document.getElementById("klik-logic");
  if (!logic) { return; }
  var ctx = JSON.parse(logic.textContent || "{}");
  var form = logic.closest("form") || document;
  var checkboxes = {};
  (ctx.checkboxes || []).forEach(function (name) { checkboxes[name] = true; });
  var UNIT = { y: 365.2425 * 86400, M: 30.44 * 86400, d: 86400, h: 3600, m: 60, s: 1 };

  function blank(v) {
    return v === null || v === undefined || v === "" || (typeof v === "number" && isNaN(v));
  }
  function num(v) {
    if (blank(v)) { return null; }
    if (typeof v === "boolean") { return v ? 1 : 0; }
    if (typeof v === "number") { return v; }
    var t = String(v).trim();
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) { return null; }
    return parseFloat(t);
  }
  function text(v) {
    if (blank(v)) { return ""; }
    if (typeof v === "boolean") { return v ? "1" : "0"; }
    return String(v);
  }
  function truthy(v) {
    if (blank(v)) { return false; }
    if (typeof v === "boolean") { return v; }
    var n = num(v);
    return n !== null ? n !== 0 : v !== "";
  }
  function equal(a, b) {
    if (blank(a) || blank(b)) { return blank(a) && blank(b); }
    var x = num(a), y = num(b);
    if (x !== null && y !== null) { return x === y; }
    return text(a) === text(b);
  }
  function order(op, a, b) {
    if (blank(a) || blank(b)) { return false; }
    var x = num(a), y = num(b);
    if (x === null || y === null) { x = text(a); y = text(b); }
    if (op === "<") { return x < y; }
    if (op === "<=") { return x <= y; }
    if (op === ">") { return x > y; }
    return x >= y;
  }
  function stored(v) {
    if (Array.isArray(v)) { return v.length ? v.join(",") : null; }
    return blank(v) ? null : v;
  }

  function pageValue(name) {
    var els = form.querySelectorAll('[name="' + name + '"]');
    if (!els.length) { return undefined; }
    var out = [], single = null;
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (el.disabled) { continue; }
      if (el.type === "checkbox") { if (el.checked) { out.push(el.value); } }
      else if (el.type === "radio") { if (el.checked) { single = el.value; } }
      else { single = el.value; }
    }
    return checkboxes[name] ? out : single;
  }
  function field(event, name, code) {
    var raw;
    if (event !== null) {
      raw = ((ctx.events || {})[event] || {})[name];
    } else {
      raw = pageValue(name);
      if (raw === undefined && Object.prototype.hasOwnProperty.call(calcValues, name)) {
        raw = calcValues[name];
      }
      if (raw === undefined) { raw = (ctx.values || {})[name]; }
    }
    if (code !== null) {
      var chosen = Array.isArray(raw) ? raw.map(String) : [];
      return chosen.indexOf(String(code)) >= 0 ? "1" : "0";
    }
    return stored(raw);
  }

  function moment(v, fmt) {
    if (blank(v)) { return null; }
    var t = text(v).trim(), low = t.toLowerCase();
    if (low === "today") { t = ctx.today; }
    else if (low === "now") { t = ctx.now; }
    if (!t) { return null; }
    t = t.replace(/\//g, "-").replace("T", " ");
    var parts = t.split(" "), d = parts[0].split("-"), hm = (parts[1] || "").split(":");
    var y, mo, da;
    if (d.length !== 3) {
      if (/^\d{1,2}:\d{2}(:\d{2})?$/.test(t)) {
        var tt = t.split(":");
        return Date.UTC(2000, 0, 1, +tt[0], +tt[1], +(tt[2] || 0)) / 1000;
      }
      return null;
    }
    if (d[0].length === 4) { y = d[0]; mo = d[1]; da = d[2]; }
    else if (fmt === "mdy") { mo = d[0]; da = d[1]; y = d[2]; }
    else if (fmt === "dmy") { da = d[0]; mo = d[1]; y = d[2]; }
    else { return null; }
    var ms = Date.UTC(+y, +mo - 1, +da, +(hm[0] || 0), +(hm[1] || 0), +(hm[2] || 0));
    return isNaN(ms) ? null : ms / 1000;
  }
  function rounded(x, places, mode) {
    var f = Math.pow(10, places);
    var scaled = Number((x * f).toPrecision(15));
    if (mode === "up") { return Math.ceil(scaled) / f; }
    if (mode === "down") { return Math.floor(scaled) / f; }
    var sign = scaled < 0 ? -1 : 1;
    return sign * Math.round(Math.abs(scaled)) / f;
  }
  function numbers(args) {
    return args.map(num).filter(function (n) { return n !== null; });
  }

  function call(name, nodes) {
    if (name === "if") { return truthy(ev(nodes[0])) ? ev(nodes[1]) : ev(nodes[2]); }
    var a = nodes.map(ev), ns, x;
    switch (name) {
      case "sum": ns = numbers(a); return ns.length ? ns.reduce(function (p, q) { return p + q; }, 0) : null;
      case "mean": ns = numbers(a); return ns.length ? ns.reduce(function (p, q) { return p + q; }, 0) / ns.length : null;
      case "min": ns = numbers(a); return ns.length ? Math.min.apply(null, ns) : null;
      case "max": ns = numbers(a); return ns.length ? Math.max.apply(null, ns) : null;
      case "median":
        ns = numbers(a).sort(function (p, q) { return p - q; });
        if (!ns.length) { return null; }
        return ns.length % 2 ? ns[(ns.length - 1) / 2] : (ns[ns.length / 2 - 1] + ns[ns.length / 2]) / 2;
      case "stdev":
        ns = numbers(a);
        if (ns.length < 2) { return null; }
        x = ns.reduce(function (p, q) { return p + q; }, 0) / ns.length;
        return Math.sqrt(ns.reduce(function (p, q) { return p + (q - x) * (q - x); }, 0) / (ns.length - 1));
      case "round": case "roundup": case "rounddown":
        x = num(a[0]);
        var places = a.length > 1 ? num(a[1]) : 0;
        if (x === null || places === null) { return null; }
        return rounded(x, Math.trunc(places), name === "roundup" ? "up" : name === "rounddown" ? "down" : "half");
      case "abs": x = num(a[0]); return x === null ? null : Math.abs(x);
      case "sqrt": x = num(a[0]); return x === null || x < 0 ? null : Math.sqrt(x);
      case "exponential": x = num(a[0]); return x === null ? null : Math.exp(x);
      case "log":
        x = num(a[0]);
        var base = a.length > 1 ? num(a[1]) : Math.E;
        if (x === null || x <= 0 || base === null || base <= 0 || base === 1) { return null; }
        return Math.log(x) / Math.log(base);
      case "datediff":
        var unit = text(a[2]).trim();
        if (!UNIT[unit]) { unit = unit.toLowerCase(); }
        if (!UNIT[unit]) { return null; }
        var fmt = "ymd", signed = false;
        a.slice(3).forEach(function (e) {
          var s = text(e).toLowerCase();
          if (e === true || e === false) { signed = e; }
          else if (s === "true" || s === "false") { signed = s === "true"; }
          else if (s === "ymd" || s === "mdy" || s === "dmy") { fmt = s; }
        });
        var m1 = moment(a[0], fmt), m2 = moment(a[1], fmt);
        if (m1 === null || m2 === null) { return null; }
        var diff = (m2 - m1) / UNIT[unit];
        return signed ? diff : Math.abs(diff);
      case "contains": return text(a[0]).toLowerCase().indexOf(text(a[1]).toLowerCase()) >= 0;
      case "not_contain": return text(a[0]).toLowerCase().indexOf(text(a[1]).toLowerCase()) < 0;
      case "starts_with": return text(a[0]).toLowerCase().indexOf(text(a[1]).toLowerCase()) === 0;
      case "ends_with":
        var h = text(a[0]).toLowerCase(), n = text(a[1]).toLowerCase();
        return h.length >= n.length && h.slice(h.length - n.length) === n;
      case "isblankormissingcode": return blank(a[0]);
      case "isnumber": return num(a[0]) !== null;
      case "isinteger": x = num(a[0]); return x !== null && Math.floor(x) === x;
      case "concat": return a.map(text).join("");
      case "length": return text(a[0]).length;
      case "lower": return text(a[0]).toLowerCase();
      case "upper": return text(a[0]).toUpperCase();
      case "trim": return text(a[0]).trim();
      case "left": x = num(a[1]); return x === null || x < 0 ? null : text(a[0]).slice(0, Math.trunc(x));
      case "right": x = num(a[1]); return x === null || x < 0 ? null : (Math.trunc(x) ? text(a[0]).slice(-Math.trunc(x)) : "");
      case "mid":
        x = num(a[1]);
        var len = num(a[2]);
        if (x === null || len === null || x < 1 || len < 0) { return null; }
        return text(a[0]).substr(Math.trunc(x) - 1, Math.trunc(len));
      case "year": case "month": case "day":
        var sec = moment(a[0], "ymd");
        if (sec === null) { return null; }
        var dd = new Date(sec * 1000);
        return name === "year" ? dd.getUTCFullYear() : name === "month" ? dd.getUTCMonth() + 1 : dd.getUTCDate();
    }
    return null;
  }

  function ev(node) {
    switch (node[0]) {
      case "lit": return node[1];
      case "field": return field(node[1], node[2], node[3]);
      case "un":
        if (node[1] === "not") { return !truthy(ev(node[2])); }
        var u = num(ev(node[2]));
        return u === null ? null : -u;
      case "bin":
        var op = node[1];
        if (op === "and") { return truthy(ev(node[2])) && truthy(ev(node[3])); }
        if (op === "or") { return truthy(ev(node[2])) || truthy(ev(node[3])); }
        var l = ev(node[2]), r = ev(node[3]);
        if (op === "=") { return equal(l, r); }
        if (op === "<>") { return !equal(l, r); }
        if (op === "<" || op === "<=" || op === ">" || op === ">=") { return order(op, l, r); }
        var x = num(l), y = num(r), out;
        if (x === null || y === null) { return null; }
        if (op === "+") { out = x + y; }
        else if (op === "-") { out = x - y; }
        else if (op === "*") { out = x * y; }
        else if (op === "/") { if (y === 0) { return null; } out = x / y; }
        else { out = Math.pow(x, y); }
        return isFinite(out) ? out : null;
      case "call": return call(node[1], node.slice(2));
    }
    return null;
  }

  var calcValues = {};
  var outputs = Array.prototype.slice.call(form.querySelectorAll("output[data-calc]"));
  var calcTrees = outputs.map(function (o) { return JSON.parse(o.getAttribute("data-calc")); });

  function shownNumber(v) {
    if (blank(v) || v === false || v === true) { return ""; }
    var n = num(v);
    if (n === null) { return ""; }
    return String(Number(n.toPrecision(12)));
  }

  function updateCalcs() {
    for (var pass = 0; pass <= outputs.length; pass++) {
      var changed = false;
      for (var i = 0; i < outputs.length; i++) {
        var value = num(ev(calcTrees[i]));
        var name = outputs[i].getAttribute("data-item");
        if (calcValues[name] !== value) { calcValues[name] = value; changed = true; }
        outputs[i].textContent = shownNumber(value);
      }
      if (!changed) { break; }
    }
  }

  var branches = Array.prototype.slice.call(form.querySelectorAll(".klik-branch[data-show]"));
  var trees = branches.map(function (b) { return JSON.parse(b.getAttribute("data-show")); });
  branches.forEach(function (b) {
    b.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (el.disabled && !b.hidden) { el.setAttribute("data-klik-locked", ""); }
    });
  });
  var shownField = form.querySelector('input[name="_shown"]');
  var headers = Array.prototype.slice.call(form.querySelectorAll(".klik-header[data-items]"));
  var conditional = {};
  branches.forEach(function (b) { conditional[b.getAttribute("data-item")] = true; });
  var baseShown = (shownField ? shownField.value.split(",") : []).filter(function (id) {
    return id && !conditional[id];
  });

  function setShown(branch, shown) {
    branch.hidden = !shown;
    branch.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (!el.hasAttribute("data-klik-locked")) { el.disabled = !shown; }
    });
  }

  function update() {
    updateCalcs();
    for (var pass = 0; pass <= branches.length; pass++) {
      var changed = false;
      for (var i = 0; i < branches.length; i++) {
        var shown = truthy(ev(trees[i]));
        if (shown === branches[i].hidden) { setShown(branches[i], shown); changed = true; }
      }
      if (!changed) { break; }
      updateCalcs();
    }
    headers.forEach(function (h) {
      // a header is hidden with the questions it heads (all of them conditional)
      h.hidden = h.getAttribute("data-items").split(",").every(function (id) {
        var b = form.querySelector('.klik-branch[data-item="' + id + '"]');
        return b !== null && b.hidden;
      });
    });
    if (shownField) {
      var ids = baseShown.slice();
      branches.forEach(function (b) {
        if (!b.hidden) { ids.push(b.getAttribute("data-item")); }
      });
      shownField.value = ids.join(",");
    }
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
}());
