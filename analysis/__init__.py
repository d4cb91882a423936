"""Analyses of job-coaching outcome studies: pure functions from tidy frames to tidy results.

Modules: ``frames`` (contracts of the input frames), ``survival`` (Kaplan–Meier, log-rank, Cox,
Aalen–Johansen), ``mixed`` (linear mixed models, within/between split, ICC), ``reliability``
(Cronbach's alpha, ICC, rater agreement), ``attrition`` (response, dropout), ``figures``
(plotly) and ``report`` (one self-contained HTML report). Nothing here touches a database or
the web; nothing runs at import time.
"""
