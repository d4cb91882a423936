"""Questionnaire instruments as data: loading, answer validation, scoring, rendering, REDCap.

Pure package: imports no other project package, touches no database or web framework.

- :mod:`questionnaires.model` - Instrument, Section, Item, Option, Score
- :mod:`questionnaires.registry` - load_instrument, load_instruments, load_registry, builtin_dir
- :mod:`questionnaires.validation` - validate_answers, ValidationResult
- :mod:`questionnaires.scoring` - score_frame, score_response
- :mod:`questionnaires.render` - render_section
- :mod:`questionnaires.redcap` - import_redcap, export_redcap
"""
