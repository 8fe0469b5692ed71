"""Domain objects: what the data layer returns and the logic layer works with, one module
per aggregate (`domain.people`, `domain.campaigns`, ...), and the closed sets of values
(`ActionType`, `ActionStatus`, `ReportResult`, `SyncState`, `Role`) as `StrEnum`s beside
the objects that hold them. Import each from its own module."""
