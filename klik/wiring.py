"""The composition root: builds engines, session factories and the clock from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from klik.settings import Settings
from study.clock import Clock, SystemClock
from study.db import make_engine, make_read_sessions, make_sessions
from study.frame_store import frame_store_options


@dataclass
class Container:
    """Everything a command or the web app needs, built once per process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    def dispose(self) -> None:
        self.engine.dispose()


def build(settings: Settings, clock: Clock | None = None) -> Container:
    """Wire the application for ``settings``."""
    engine = make_engine(settings.database_url)
    folder = settings.frame_store_folder
    readers = engine if folder is None else engine.execution_options(**frame_store_options(folder))
    return Container(
        settings=settings,
        engine=engine,
        sessions=make_sessions(engine),
        read_sessions=make_read_sessions(readers),
        clock=clock or SystemClock(),
    )
