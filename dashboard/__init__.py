"""The web application: Flask and Dash pages, the personal-link forms, background jobs, and the
disclosure gate every number for a viewer passes (``dashboard.disclosure``); it reads and writes
only through ``study`` services and read models.
"""
