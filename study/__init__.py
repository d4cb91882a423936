"""The study model and everything that touches the database: ORM models and migrations, the
services (the only writers), read models (frames for analyses and pages), the scheduler, mail
and the simulator.
"""
