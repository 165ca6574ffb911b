"""Assignment: the agent on the case, else the team's skilled, least loaded agent with
room; and never more cases than an agent's capacity, even when routed at once."""

import pytest

from conversations import journal
from conversations.models import AgentProfile, Case
from routing.assignment import assign
from routing.models import CaseAssignment
from tests.factories import CustomerFactory
from tests.routing.conftest import profile

pytestmark = pytest.mark.django_db


def open_case(team=None) -> Case:
    customer = CustomerFactory()
    event = journal.record(customer=customer, channel="web", kind="message", direction="in")
    case = Case.objects.get(pk=event.case_id)
    if team is not None:
        Case.objects.filter(pk=case.pk).update(team=team)
        case.team = team
    return case


def test_the_least_loaded_agent_of_the_team_gets_the_case(sales, support, agent, teammate):
    profile(agent, teams=[sales])
    profile(teammate, teams=[sales])
    assign(open_case(sales), reason="test")  # alice (first by pk on a tie)

    assert assign(open_case(sales), reason="test") == teammate
    assert assign(open_case(sales), reason="test") == agent


def test_agents_of_other_teams_and_away_agents_are_not_chosen(
    sales, support, agent, teammate, django_user_model
):
    profile(agent, teams=[support])
    profile(teammate, teams=[sales], available=False)

    assert assign(open_case(sales), reason="test") is None
    carol = django_user_model.objects.create_user("carol", is_staff=True)
    profile(carol, teams=[sales])
    assert assign(open_case(sales), reason="test") == carol


def test_the_agent_with_the_skill_comes_first(sales, agent, teammate):
    profile(agent, teams=[sales], skills=["bikes"])
    profile(teammate, teams=[sales], skills=["treadmills"])

    assert assign(open_case(sales), reason="test", skill="treadmills") == teammate


def test_a_full_agent_gets_no_more_cases(sales, agent):
    profile(agent, teams=[sales], capacity=1)
    assert assign(open_case(sales), reason="test") == agent

    assert assign(open_case(sales), reason="test") is None


def test_resolved_cases_free_a_seat(sales, agent):
    profile(agent, teams=[sales], capacity=1)
    first = open_case(sales)
    assign(first, reason="test")
    Case.objects.filter(pk=first.pk).update(status=Case.Status.RESOLVED)

    assert assign(open_case(sales), reason="test") == agent


def test_reassigning_excludes_the_agent_and_counts(sales, agent, teammate):
    profile(agent, teams=[sales])
    profile(teammate, teams=[sales])
    case = open_case(sales)
    assign(case, reason="test")

    assert assign(case, reason="waited", exclude=(agent.pk,)) == teammate
    assert CaseAssignment.objects.get(case=case).reassignments == 1


@pytest.mark.django_db(transaction=True)
def test_cases_routed_at_once_never_overfill_an_agent(concurrently, django_user_model):
    # given: two agents with room for two cases each, and eight new cases (opened while the
    # agents are away, so the routing hook leaves them unassigned)
    for name in ("ann", "ben"):
        user = django_user_model.objects.create_user(name, is_staff=True)
        profile(user, capacity=2, available=False)
    cases = [open_case() for _ in range(8)]
    assert not Case.objects.filter(assignee__isnull=False).exists()
    AgentProfile.objects.update(available=True)

    # when: all six are routed at the same moment, each in its own connection
    results = concurrently(lambda case: assign(case, reason="race"), [(c,) for c in cases])

    # then: four got an agent, two each; four wait
    assigned = [user.username for user in results if user is not None]
    assert sorted(assigned) == ["ann", "ann", "ben", "ben"]
    counts = {name: Case.objects.filter(assignee__username=name).count() for name in ("ann", "ben")}
    assert counts == {"ann": 2, "ben": 2}
