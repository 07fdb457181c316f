"""Today's roster: who is in, and the counts reception reports."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dvc.operations.models import Operation
from dvc.volunteers.models import CheckIn
from dvc.volunteers.operations import checkins_on, first_days


@dataclass
class Roster:
    day: date
    checkins: list[CheckIn]
    people: int = 0
    individuals: int = 0
    groups: int = 0
    group_people: int = 0
    new: int = 0
    repeat: int = 0
    in_prefecture: int = 0
    out_of_prefecture: int = 0
    new_ids: set[int] = field(default_factory=set)


def roster(operation: Operation, day: date, site_id: int | None = None) -> Roster:
    """Return a day's check-ins with people counted (a group's check-in counts its headcount)."""
    checkins = checkins_on(operation, day, site_id)
    firsts = first_days([c.volunteer_id for c in checkins])
    result = Roster(day=day, checkins=checkins)
    for checkin in checkins:
        people = checkin.headcount
        result.people += people
        if checkin.volunteer.group_id:
            result.groups += 1
            result.group_people += people
        else:
            result.individuals += people
        if firsts.get(checkin.volunteer_id) == day:
            result.new += people
            result.new_ids.add(checkin.volunteer_id)
        else:
            result.repeat += people
        if checkin.volunteer.prefecture == operation.prefecture:
            result.in_prefecture += people
        else:
            result.out_of_prefecture += people
    return result
