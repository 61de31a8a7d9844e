"""Unit tests of the world engine: clock and events, drive paths and files, colleagues, calendar,
deliverables and their time stamps, calculator, code runner and tool schemas.

Worlds are built by hand from small task instances, so every expectation below is exact.
"""

from __future__ import annotations

import base64
import itertools
import json
from functools import cache
from typing import Any

import pytest
from pydantic import TypeAdapter

from conftest import preset_days, run_agent, seeded_company
from firstday.env import DayEnv, EnvConfig, events_of
from firstday.env.trace import ToolResultEvent
from firstday.errors import ToolError
from firstday.seeding import make_rng
from firstday.suites import Day, Scenario
from firstday.tasks import AttendedCheck, Checkpoint, FileCheck, SubmissionCheck, SubmittedCheck, TaskInstance
from firstday.world import Company, Fact, FileAsset, FollowUp, MeetingAsset, PageAsset, ToolCall, ToolResult
from firstday.world.calculator import CalcError, evaluate
from firstday.world.clock import (
    Clock,
    ColleagueReply,
    DayEvent,
    Deadline,
    EndOfDay,
    EventQueue,
    FollowUpMessage,
    MeetingReminder,
    TaskArrival,
)
from firstday.world.colleagues import Reply, Responder
from firstday.world.tools import DEFAULT_COSTS, GROUP_MESSAGE_COST, Toolbox, tool, tool_meta
from firstday.world.world import normalize_path


# --- fixtures: a company with known reply delays, hand-made tasks -----------------------------------------
@cache
def company() -> Company:
    c = seeded_company("world").model_copy(deep=True)
    fin = c.department("Finance")
    for e in c.employees:
        e.reply_delay = 8
    c.employee(fin.members[1]).reply_delay = 20  # slow
    c.employee(fin.members[2]).reply_delay = 2  # faster than a message costs
    return c


def handles() -> tuple[str, str, str, str]:
    """(slow colleague, fast colleague, another colleague, the Finance head)."""
    fin = company().department("Finance")
    other = next(e.handle for e in company().employees if e.department not in ("Finance", "Executive"))
    return fin.members[1], fin.members[2], other, fin.head


def task(task_id: str = "t1", *, arrival: int = 540, deadline: int = 600, checkpoints: list[Checkpoint] | None = None,
         answers: dict[str, Any] | None = None, files: list[FileAsset] | None = None, facts: list[Fact] | None = None,
         meetings: list[MeetingAsset] | None = None, pages: list[PageAsset] | None = None) -> TaskInstance:
    return TaskInstance(
        task_id=task_id, family="unit", variant="v", difficulty="easy", objective=f"Do {task_id}.",
        requester=company().mentor, arrival=arrival, priority="normal", deadline=deadline, effort_minutes=10,
        files=files or [], facts=facts or [], meetings=meetings or [], pages=pages or [],
        checkpoints=checkpoints or [Checkpoint(cp_id="done", description="submitted", answer_bearing=False,
                                               check=SubmittedCheck())],
        solution=[], answers=answers or {},
    )


def make_env(*tasks: TaskInstance, meetings: list[MeetingAsset] | None = None,
             follow_ups: list[FollowUp] | None = None, config: EnvConfig | None = None) -> DayEnv:
    day = Day(day_index=0, tasks=list(tasks) or [task()], meetings=meetings or [], follow_ups=follow_ups or [])
    return DayEnv(Scenario(scenario_id="unit", seed=0, company=company(), days=[day]), day, config)


def call(env: DayEnv, name: str, arguments: dict[str, Any] | None = None) -> ToolResult:
    before = env.world.now
    res = env.tools.execute(ToolCall(name=name, arguments=arguments or {}))
    assert res.started == before and res.ended >= res.started
    return res


def refused(res: ToolResult, *needles: str) -> None:
    assert not res.ok, res.content
    assert res.content.startswith("error: ") and "internal error" not in res.content, res.content
    for n in needles:
        assert n.lower() in res.content.lower(), f"{n!r} not in {res.content!r}"


def wait_until(env: DayEnv, hhmm: str) -> None:
    assert call(env, "wait", {"until": hhmm}).ok


# --- clock and events --------------------------------------------------------------------------------------
def test_clock_refuses_to_go_backwards() -> None:
    clock = Clock(600)
    with pytest.raises(ToolError):
        clock.advance(-1)
    with pytest.raises(ToolError):
        clock.advance_to(599)
    clock.advance(0)
    clock.advance_to(600)
    clock.advance(5)
    assert clock.now == 605


def test_event_queue_orders_by_time_then_insertion() -> None:
    q = EventQueue()
    for time, task_id in ((10, "a"), (5, "b"), (10, "c"), (5, "d"), (20, "e")):
        q.push(time, Deadline(task_id=task_id))
    q.push(7, EndOfDay())
    assert q.pop_due(4) == []
    assert [getattr(e.event, "task_id", e.event.kind) for e in q.pop_due(10)] == ["b", "d", "end_of_day", "a", "c"]
    assert q.next_time() == 20 and len(q) == 1
    assert q.pending(Deadline) == [(20, Deadline(task_id="e"))] and q.pending(EndOfDay) == []


def test_world_events_are_a_discriminated_union() -> None:
    adapter: TypeAdapter[DayEvent] = TypeAdapter(DayEvent)
    reply = ColleagueReply(reply=Reply(sender="dana.kim", text="hi", shares_files=("/shared/a.md",)))
    for event in (TaskArrival(task_id="t1"), Deadline(task_id="t1"), MeetingReminder(meeting_id="m1"),
                  FollowUpMessage(task_id="t1", sender="dana.kim", text="how is it going?"), EndOfDay(), reply):
        assert adapter.validate_python(event.model_dump()) == event
    assert reply.cause == "colleague" and EndOfDay.cause == "scenario"


def test_clock_and_trace_never_go_backwards_in_real_days() -> None:
    for scenario, day in preset_days("smoke", 5):
        for agent in ("heuristic", "oracle"):
            result = run_agent(agent, scenario, day)
            stamps = [e.t for e in result.trace]
            assert stamps == sorted(stamps)
            spans = [(e.data.started, e.data.ended) for e in events_of(result.trace, ToolResultEvent)]
            assert all(s <= e for s, e in spans)
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_events_are_delivered_in_time_order_before_the_turn() -> None:
    t1, t2, t3 = task("t1", arrival=540, deadline=700), task("t2", arrival=570, deadline=700), task(
        "t3", arrival=600, deadline=620)
    env = make_env(t1, t2, t3, follow_ups=[FollowUp(task_id="t1", time=585, sender=company().mentor, text="ping")])
    first = env.reset()
    assert [n.task_id for n in first.notifications] == ["t1"] and first.time == 540
    obs = env.step([ToolCall(name="wait", arguments={"until": "10:25"})])
    kinds = [(n.kind, n.task_id) for n in obs.notifications]
    # arrival 09:30, follow-up 09:45, arrival 10:00, deadline 10:20 of t3: in event-time order
    assert kinds == [("task", "t2"), ("message", "t1"), ("task", "t3"), ("deadline", "t3")]
    assert all(n.time <= obs.time for n in obs.notifications)
    # nothing that is due is held back, nothing in the future is shown
    nxt = env.world.events.next_time()
    assert nxt is None or nxt > obs.time
    # the inbox keeps everything, in order
    assert [n.task_id for n in env.world.inbox if n.kind == "task"] == ["t1", "t2", "t3"]


def test_follow_ups_only_chase_unsubmitted_tasks() -> None:
    mentor = company().mentor
    fus = [FollowUp(task_id="t1", time=560, sender=mentor, text="how is t1?"),
           FollowUp(task_id="t2", time=560, sender=mentor, text="how is t2?")]
    env = make_env(task("t1", deadline=700), task("t2", deadline=700), follow_ups=fus)
    env.reset()
    assert call(env, "submit", {"task_id": "t1", "answer": "x"}).ok
    obs = env.step([ToolCall(name="wait", arguments={"until": "09:30"})])
    texts = [n.text for n in obs.notifications if n.kind == "message"]
    assert len(texts) == 1 and "how is t2?" in texts[0]


def test_end_of_day_stops_everything_without_cost() -> None:
    env = make_env()
    env.reset()
    obs = env.step([ToolCall(name="wait", arguments={"minutes": 540})])
    assert obs.done and env.world.ended and obs.time == env.world.day_end
    assert any(n.kind == "end_of_day" for n in obs.notifications)
    res = env.tools.execute(ToolCall(name="list_tasks"))
    refused(res, "day is over")
    assert res.ended == res.started == env.world.day_end


def test_idle_turn_jumps_to_the_next_event() -> None:
    env = make_env(task("t1"), task("t2", arrival=700, deadline=800))
    env.reset()
    obs = env.step([])
    assert obs.time == 600  # t1's deadline is the next event
    obs = env.step([])
    assert obs.time == 700 and [n.task_id for n in obs.notifications if n.kind == "task"] == ["t2"]


# --- colleagues ---------------------------------------------------------------------------------------------
def facts() -> list[Fact]:
    slow, fast, _, head = handles()
    return [
        Fact(fact_id="rating", holder=slow, topic="supplier rating", keywords=["supplier rating", "rating"],
             reply="The supplier rating threshold is 7.", clue_ids=["c-rating"]),
        Fact(fact_id="rating-b", holder=slow, topic="rating scale", keywords=["rating scale", "rating"],
             reply="Ratings go from 1 to 10."),
        Fact(fact_id="code", holder=head, topic="approval", keywords=["approval", "code"],
             gate_tokens=["budget BX-7"], gate_reply="Which budget is it for? I need the budget reference.",
             reply="The approval code is AP-4411.", clue_ids=["c-code"], shares_files=["/shared/fin/codes.md"]),
        Fact(fact_id="chart", holder=fast, topic="chart", keywords=["chart", "replacement"], require_any=["ch-1234"],
             reply="ch-1234 was replaced by ch-9876.", clue_ids=["c-chart"]),
    ]


def colleague_env() -> DayEnv:
    files = [FileAsset(path="/shared/fin/codes.md", content="AP codes", hidden=True, clue_ids=["c-file"])]
    return make_env(task("t1", deadline=1000, facts=facts(), files=files))


def replies(env: DayEnv) -> list[str]:
    notes, _ = env.world.take_observation()
    return [n.text for n in notes if n.kind == "message"]


def test_responder_never_invents_and_is_deterministic() -> None:
    slow, _, other, _ = handles()
    responder = Responder(company().employees, facts())
    unknown = responder.respond(slow, "What's the weather like today?")
    assert unknown is not None and "don't know" in unknown.text and not unknown.clue_ids and unknown.fact_id is None
    known = responder.respond(slow, "What is the supplier rating threshold?")
    assert known is not None and known.text == "The supplier rating threshold is 7." and known.clue_ids == ("c-rating",)
    assert responder.respond(slow, "What is the supplier rating threshold?") == known
    assert Responder(company().employees, facts()).respond(slow, "What is the supplier rating threshold?") == known
    # facts belong to their holder only
    other_reply = responder.respond(other, "What is the supplier rating threshold?")
    assert other_reply is not None and "don't know" in other_reply.text
    # a group member who knows nothing stays silent
    assert responder.respond(other, "supplier rating?", group=True) is None


def test_replies_only_ever_contain_card_texts() -> None:
    """Random messages built from the cards' vocabulary: a reply is 'don't know' or made only of card texts."""
    responder = Responder(company().employees, facts())
    vocab = sorted({w for f in facts() for k in [*f.keywords, *f.require_any, *f.gate_tokens] for w in k.split()})
    vocab += ["please", "hello", "what", "is", "the", "?", "thanks"]
    rng = make_rng("tests", "responder")
    for _ in range(400):
        holder = rng.choice(sorted({f.holder for f in facts()}))
        card = [f for f in facts() if f.holder == holder]
        allowed = [f.reply for f in card] + [f.gate_reply for f in card if f.gate_reply]
        message = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 8)))
        reply = responder.respond(holder, message)
        assert reply is not None
        if "don't know" in reply.text:
            assert not reply.clue_ids
            continue
        rest = reply.text
        while rest:
            piece = next((a for a in allowed if rest.startswith(a)), None)
            assert piece is not None, f"invented reply {reply.text!r} to {message!r}"
            rest = rest[len(piece):].lstrip()
        assert responder.respond(holder, message) == reply


def test_ties_reveal_every_best_match() -> None:
    slow = handles()[0]
    reply = Responder(company().employees, facts()).respond(slow, "Tell me about the rating")
    assert reply is not None
    assert reply.text == "The supplier rating threshold is 7. Ratings go from 1 to 10."
    assert reply.fact_id == "rating,rating-b"


def test_gate_tokens_hold_back_the_fact() -> None:
    head = handles()[3]
    env = colleague_env()
    env.reset()
    assert call(env, "send_message", {"to": head, "text": "Could I get the approval code?"}).ok
    assert call(env, "wait", {"for_message_from": head}).ok
    assert replies(env) == [f"Message from {company().employee(head).name} ({head}): "
                            "Which budget is it for? I need the budget reference."]
    assert "c-code" not in env.world.record.observed and "/shared/fin/codes.md" not in env.world.visible
    refused(call(env, "read_file", {"path": "/shared/fin/codes.md"}), "no such file")
    assert call(env, "send_message", {"to": head, "text": "Approval code for budget BX-7, please"}).ok
    assert call(env, "wait", {"for_message_from": head}).ok
    assert "AP-4411" in replies(env)[0] and "c-code" in env.world.record.observed
    assert call(env, "read_file", {"path": "/shared/fin/codes.md"}).content == "AP codes"


def test_require_any_needs_the_specific_subject() -> None:
    fast = handles()[1]
    responder = Responder(company().employees, facts())
    vague = responder.respond(fast, "Which chart is the replacement?")
    specific = responder.respond(fast, "Which chart is the replacement for ch-1234?")
    assert vague is not None and "don't know" in vague.text
    assert specific is not None and "ch-9876" in specific.text


def test_reply_delays() -> None:
    slow, fast, _, _ = handles()
    env = colleague_env()
    env.reset()
    sent = call(env, "send_message", {"to": slow, "text": "What's the supplier rating?"})
    assert sent.ok and sent.ended - sent.started == DEFAULT_COSTS["send_message"]
    assert replies(env) == []
    assert call(env, "wait", {"minutes": 10}).ok and replies(env) == []
    # the reply arrives exactly reply_delay minutes after sending
    assert call(env, "wait", {"for_message_from": slow}).ok
    assert env.world.now == sent.started + 20 and len(replies(env)) == 1
    refused(call(env, "wait", {"for_message_from": slow}), "no reply")
    # a reply faster than the message itself is there when the send returns
    sent = call(env, "send_message", {"to": fast, "text": "Replacement of chart ch-1234?"})
    assert ["ch-9876" in r for r in replies(env)] == [True]


def test_group_messages() -> None:
    slow, fast, other, _ = handles()
    env = colleague_env()
    env.reset()
    res = call(env, "send_message", {"to": [slow, fast, other], "text": "Anyone know the supplier rating?"})
    assert res.ok and res.ended - res.started == GROUP_MESSAGE_COST
    assert env.world.record.messages[-1].to == [slow, fast, other]
    call(env, "wait", {"minutes": 60})
    got = replies(env)
    assert len(got) == 1 and slow in got[0], "only the colleague who knows answers a group message"
    # a duplicated handle is one direct message
    res = call(env, "send_message", {"to": [other, f"@{other.upper()}"], "text": "hello"})
    assert res.ok and res.ended - res.started == DEFAULT_COSTS["send_message"]
    assert env.world.record.messages[-1].to == [other]
    refused(call(env, "send_message", {"to": [], "text": "hello"}), "at least one")
    refused(call(env, "send_message", {"to": other, "text": "   "}), "empty")


# --- drive ----------------------------------------------------------------------------------------------------
def test_normalize_path() -> None:
    assert normalize_path("notes.md") == "/workspace/notes.md"
    assert normalize_path("/shared/a/./b.md") == "/shared/a/b.md"
    assert normalize_path("/shared//a.md") == "/shared/a.md"
    assert normalize_path(" /workspace/x ") == "/workspace/x"
    assert normalize_path("/") == "/"
    for bad in ("", "  ", "..", "a/../b", "/shared/../etc", "/etc/passwd", "/sharedx/a", "/work", "a\\b", "a\x00b",
                "/shared/" + "x" * 600, None, 5, ["/shared"]):
        with pytest.raises(ToolError):
            normalize_path(bad)


def drive_env() -> DayEnv:
    big = "".join(f"line {i}\n" for i in range(6000))
    files = [FileAsset(path="/shared/data/sales.csv", content="region,amount\nnorth,10\nsouth,32\nnorth,5\n",
                       media_type="text/csv"),
             FileAsset(path="/shared/data/big.txt", content=big),
             FileAsset(path="/shared/secret/plan.md", content="hidden plan", hidden=True),
             FileAsset(path="/workspace/kb/a.md", content="# A\nsee chart ch-1 and ch-1\n", media_type="text/markdown")]
    return make_env(task("t1", deadline=1000, files=files))


def test_listing_reading_and_paging() -> None:
    env = drive_env()
    listing = call(env, "list_files").content.splitlines()
    assert listing == ["/shared/data/big.txt", "/shared/data/sales.csv", "/workspace/kb/a.md"]
    assert call(env, "list_files", {"path": "/shared/data"}).content.splitlines() == listing[:2]
    assert call(env, "list_files", {"path": "/workspace"}).content == "/workspace/kb/a.md"
    assert call(env, "list_files", {"path": "/shared/nothing"}).content.startswith("No files")
    content = env.world.file_assets["/shared/data/big.txt"].content
    first = call(env, "read_file", {"path": "/shared/data/big.txt"})
    assert first.ended - first.started == DEFAULT_COSTS["read_file"]
    pages, res = [], first
    while "read again with offset=" in res.content:
        text, note = res.content.rsplit("\n[", 1)
        pages.append(text)
        offset = int(note.split("offset=")[1].rstrip("]"))
        res = call(env, "read_file", {"path": "/shared/data/big.txt", "offset": offset})
    assert len(pages) >= 2 and "".join(pages) + res.content == content
    refused(call(env, "read_file", {"path": "/shared/data/big.txt", "offset": -1}), "offset")
    assert call(env, "read_file", {"path": "/shared/data/big.txt", "offset": 10**9}).content == ""


def test_file_versions_are_time_stamped() -> None:
    env = drive_env()
    assert call(env, "write_file", {"path": "/workspace/out.md", "content": "v1"}).ok
    t1 = env.world.now
    call(env, "wait", {"minutes": 30})
    assert call(env, "write_file", {"path": "out.md", "content": "v2"}).ok  # relative paths are in /workspace
    versions = env.world.record.files["/workspace/out.md"]
    assert [(v.content, v.author) for v in versions] == [("v1", "trainee"), ("v2", "trainee")]
    assert versions[0].time < versions[1].time
    assert env.world.record.file_at("/workspace/out.md", t1).content == "v1"  # type: ignore[union-attr]
    assert env.world.record.file_at("/workspace/out.md", t1 - 4) is None
    assert call(env, "read_file", {"path": "/workspace/out.md"}).content == "v2"
    refused(call(env, "write_file", {"path": "/shared/data/sales.csv", "content": "x"}), "read-only")
    refused(call(env, "write_file", {"path": "/workspace/huge.txt", "content": "x" * 1_000_001}), "too large")


def test_edit_file_is_exact() -> None:
    env = drive_env()
    path = "/workspace/kb/a.md"
    refused(call(env, "edit_file", {"path": path, "old": "ch-1", "new": "ch-2"}), "occurs 2 times")
    refused(call(env, "edit_file", {"path": path, "old": "ch-3", "new": "ch-2"}), "occurs 0 times")
    refused(call(env, "edit_file", {"path": path, "old": "", "new": "x"}), "occurs 0 times")
    refused(call(env, "edit_file", {"path": path, "old": "see  chart", "new": "x"}), "occurs 0 times")
    refused(call(env, "edit_file", {"path": "/shared/data/sales.csv", "old": "north", "new": "x"}), "read-only")
    refused(call(env, "edit_file", {"path": "/workspace/nope.md", "old": "a", "new": "b"}), "no such file")
    assert env.world.record.files[path][-1].author == "initial"
    assert call(env, "edit_file", {"path": path, "old": "chart ch-1 and", "new": "chart ch-7 and"}).ok
    assert call(env, "edit_file", {"path": path, "old": "# A\nsee", "new": "# A\nSee"}).ok
    assert call(env, "read_file", {"path": path}).content == "# A\nSee chart ch-7 and ch-1\n"
    assert len(env.world.record.files[path]) == 3


def image_env(text_only: bool) -> DayEnv:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()
    files = [FileAsset(path="/shared/img/heatmap.png", content=png, media_type="image/png",
                       text_alternative="north: 40 users/km2", clue_ids=["c-img"])]
    pages = [PageAsset(url="http://intranet/status", title="Status", content="p95 latency 900 ms", clue_ids=["c-page"])]
    return make_env(task("t1", deadline=1000, files=files, pages=pages), config=EnvConfig(text_only=text_only))


def test_images_pages_and_their_clues() -> None:
    env = image_env(text_only=False)
    env.reset()
    res = call(env, "read_file", {"path": "/shared/img/heatmap.png"})
    assert res.ok and len(res.images) == 1 and res.images[0].media_type == "image/png" and "40 users" not in res.content
    page = call(env, "open_page", {"url": "http://intranet/status"})
    assert "p95 latency 900 ms" in page.content
    refused(call(env, "open_page", {"url": "http://intranet/other"}), "not found")
    env.step([])
    assert {"c-img", "c-page"} <= set(env.world.record.observed)
    text_env = image_env(text_only=True)
    res = call(text_env, "read_file", {"path": "/shared/img/heatmap.png"})
    assert res.ok and not res.images and "north: 40 users/km2" in res.content


# --- calendar -----------------------------------------------------------------------------------------------
def meeting(start: int = 600, end: int = 630, *, required: bool = True, mid: str = "m1") -> MeetingAsset:
    c = company()
    room = max(c.rooms, key=lambda r: r.capacity).name
    return MeetingAsset(meeting_id=mid, title="Team sync", start=start, end=end, room=room, organizer=c.mentor,
                        attendees=[c.mentor], trainee_required=required, notes="The budget is frozen.",
                        clue_ids=["c-meeting"])


def test_booking_refuses_clashes_small_rooms_and_the_past() -> None:
    c = company()
    env = make_env(meetings=[meeting()])
    small = min(c.rooms, key=lambda r: r.capacity)
    big = max(c.rooms, key=lambda r: r.capacity)
    people = [e.handle for e in c.employees[: small.capacity]]  # plus the trainee: one too many
    base = {"title": "Sync", "start": "11:00", "duration_minutes": 30, "room": big.name, "attendees": people[:2]}
    refused(call(env, "book_meeting", {**base, "room": small.name, "attendees": people}), "holds")
    refused(call(env, "book_meeting", {**base, "start": "10:15"}), "booked 10:00-10:30")  # clashes with m1
    refused(call(env, "book_meeting", {**base, "start": "08:30"}), "past")
    refused(call(env, "book_meeting", {**base, "start": "21:45"}), "22:00")
    refused(call(env, "book_meeting", {**base, "start": "25:00"}), "valid clock time")
    refused(call(env, "book_meeting", {**base, "start": "11"}), "HH:MM")
    refused(call(env, "book_meeting", {**base, "duration_minutes": 4}), "between 5 and 480")
    refused(call(env, "book_meeting", {**base, "room": "Broom closet"}), "no room")
    refused(call(env, "book_meeting", {**base, "attendees": ["nobody.here"]}), "no colleague")
    refused(call(env, "book_meeting", {**base, "attendees": [c.trainee.handle]}), "that is you")
    assert not any(m.booked_by_trainee for m in env.world.record.meetings.values())
    # back-to-back with m1 is fine; the booking shows everywhere
    ok = call(env, "book_meeting", {**base, "start": "10:30"})
    assert ok.ok and "b1" in ok.content
    booked = env.world.record.meetings["b1"]
    assert (booked.start, booked.end, booked.created_at, booked.attendees) == (630, 660, ok.started, people[:2])
    assert "b1" in call(env, "list_meetings").content
    assert "10:30-11:00" in call(env, "room_schedule", {"room": big.name}).content
    refused(call(env, "book_meeting", {**base, "start": "10:45"}), "booked 10:30-11:00")
    refused(call(env, "cancel_meeting", {"meeting_id": "m1"}), "no active booking")
    assert call(env, "cancel_meeting", {"meeting_id": "b1"}).ok
    refused(call(env, "cancel_meeting", {"meeting_id": "b1"}), "no active booking")
    assert call(env, "book_meeting", {**base, "start": "10:45"}).ok  # the room is free again


def attended_task() -> TaskInstance:
    return task("t1", deadline=1000, checkpoints=[
        Checkpoint(cp_id="on-time", description="attended", answer_bearing=False,
                   check=AttendedCheck(meeting_id="m1", max_late=5))])


def test_attending_on_time() -> None:
    env = make_env(attended_task(), meetings=[meeting()])
    env.reset()
    refused(call(env, "attend_meeting", {"meeting_id": "m1"}), "at most 30 minutes early")
    wait_until(env, "09:40")
    res = call(env, "attend_meeting", {"meeting_id": "m1"})
    assert res.ok and "from 10:00 to 10:30" in res.content and "(late)" not in res.content
    assert "The budget is frozen." in res.content and env.world.now == 630
    assert [(a.meeting_id, a.joined_at) for a in env.world.record.attendance] == [("m1", 600)]
    refused(call(env, "attend_meeting", {"meeting_id": "m1"}), "ended")
    refused(call(env, "attend_meeting", {"meeting_id": "nope"}), "no meeting 'nope' on your calendar")
    env.step([])
    assert "c-meeting" in env.world.record.observed
    card = env.score()
    assert card.tasks[0].score == 1.0 and card.metrics.meetings_late == 0 and card.metrics.meetings_missed == 0


def test_attending_late_and_missing() -> None:
    env = make_env(attended_task(), meetings=[meeting()])
    env.reset()
    wait_until(env, "10:10")
    res = call(env, "attend_meeting", {"meeting_id": "m1"})
    assert res.ok and "from 10:10 (late)" in res.content
    call(env, "end_day")
    card = env.score()
    assert card.tasks[0].score == 0.0 and card.metrics.meetings_late == 1
    missed = make_env(attended_task(), meetings=[meeting()])
    call(missed, "end_day")
    assert missed.score().metrics.meetings_missed == 1
    # meetings that are not on the trainee's calendar cannot be joined
    other = make_env(meetings=[meeting(required=False)])
    refused(call(other, "attend_meeting", {"meeting_id": "m1"}), "no meeting")


# --- deliverables are time-stamped ----------------------------------------------------------------------
def answer_task() -> TaskInstance:
    return task("t1", deadline=600, answers={"total": 42, "text": "final report\n"}, checkpoints=[
        Checkpoint(cp_id="total", description="the total", clue_ids=[],
                   check=SubmissionCheck(field="total", expected="total", compare="number_close")),
        Checkpoint(cp_id="report", description="the report", clue_ids=[],
                   check=FileCheck(path="/workspace/report.md", expected="text", compare="equals")),
    ])


def run_deliveries(*steps: tuple[str, str, Any]) -> dict[str, Any]:
    """Steps of (time 'HH:MM' or '', tool, arguments); returns {cp_id: checkpoint result}."""
    env = make_env(answer_task())
    env.reset()
    for when, name, args in steps:
        if when:
            wait_until(env, when)
        assert call(env, name, args).ok
    call(env, "end_day")
    return {c.cp_id: c for c in env.score().tasks[0].checkpoints} | {"task": env.score().tasks[0]}


def test_deliverables_before_the_deadline_count() -> None:
    r = run_deliveries(("", "submit", {"task_id": "t1", "answer": {"total": 42}}),
                       ("", "write_file", {"path": "/workspace/report.md", "content": "final report"}))
    assert r["total"].passed and r["report"].passed and r["task"].score == 1.0 and r["task"].on_time


def test_deliverables_after_the_deadline_do_not_count() -> None:
    r = run_deliveries(("10:05", "submit", {"task_id": "t1", "answer": {"total": 42}}),
                       ("", "write_file", {"path": "/workspace/report.md", "content": "final report"}))
    for cp in ("total", "report"):
        assert not r[cp].passed and r[cp].passed_late, cp
        assert "after the deadline" in r[cp].feedback
    assert r["task"].score == 0.0 and not r["task"].on_time and r["task"].submitted_at == 605


def test_the_version_at_the_deadline_is_the_one_that_counts() -> None:
    # right on time, wrong afterwards: the on-time work stands
    r = run_deliveries(("", "submit", {"task_id": "t1", "answer": {"total": 42}}),
                       ("", "write_file", {"path": "/workspace/report.md", "content": "final report"}),
                       ("10:05", "submit", {"task_id": "t1", "answer": {"total": 41}}),
                       ("", "write_file", {"path": "/workspace/report.md", "content": "oops"}))
    assert r["total"].passed and r["report"].passed and not r["total"].passed_late
    # wrong on time, right afterwards: only late credit
    r = run_deliveries(("", "submit", {"task_id": "t1", "answer": {"total": 40}}),
                       ("", "write_file", {"path": "/workspace/report.md", "content": "draft"}),
                       ("10:05", "submit", {"task_id": "t1", "answer": {"total": 42}}),
                       ("", "write_file", {"path": "/workspace/report.md", "content": "final report"}))
    assert not r["total"].passed and r["total"].passed_late and not r["report"].passed and r["report"].passed_late


def test_submissions_are_checked_against_arrived_tasks() -> None:
    env = make_env(task("t1"), task("t2", arrival=700, deadline=800))
    env.reset()
    refused(call(env, "submit", {"task_id": "t2", "answer": 1}), "no task 't2'")
    refused(call(env, "submit", {"task_id": "t9", "answer": 1}), "your tasks: t1")
    wait_until(env, "10:05")
    assert "after the deadline" in call(env, "submit", {"task_id": "t1", "answer": 1}).content


# --- calculator ----------------------------------------------------------------------------------------------
def test_calculator_computes() -> None:
    env = make_env()
    assert call(env, "calculator", {"expression": "(1200 + 350) * 0.2"}).content == "310.0"
    assert call(env, "calculator", {"expression": "max(3, 7) / 2"}).content == "3.5"
    assert call(env, "calculator", {"expression": "round(2.567, 2) + sqrt(16) + mean(1, 2, 3)"}).content == "8.57"
    assert evaluate("10**100") == 10**100 and evaluate("-2**2") == -4 and evaluate("7 // 2 % 3") == 0


@pytest.mark.parametrize("expression", [
    "__import__('os').system('id')", "(1).__class__", "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd').read()", "exec('1')", "x", "pi", "[1, 2]", "'a' * 10", "lambda: 1", "True + 1",
    "2**10**10", "9**9**9", "10**1000", "(10**12)**100 * (10**12)**100 * (10**12)**100 * (10**12)**100",
    "round(10**100, -(10**7))", "exp(10**6)", "sqrt(-1)", "1/0", "5 % 0", "max()", "round(1, 2, 3)",
    "-" * 1999 + "1", "1+" * 999 + "1", "(" * 300 + "1" + ")" * 300, "1" * 2001, "max(1, key=abs)",
    "abs(*[1])", "f'{1}'", "1 if 1 else 2", "1 < 2", "a := 1",
])
def test_calculator_refuses_unsafe_or_runaway_expressions(expression: str) -> None:
    env = make_env()
    refused(call(env, "calculator", {"expression": expression}))
    with pytest.raises((CalcError, OverflowError)):
        evaluate(expression)


# --- run_python ----------------------------------------------------------------------------------------------
def test_run_python_reads_shared_csv_with_pandas_and_writes_back() -> None:
    env = drive_env()
    assert call(env, "write_file", {"path": "/workspace/notes/in.txt", "content": "north"}).ok
    code = """
import os
import pandas as pd
df = pd.read_csv("../shared/data/sales.csv")
region = open("notes/in.txt").read().strip()
total = df[df.region == region].amount.sum()
os.makedirs("out", exist_ok=True)
df.groupby("region").amount.sum().to_csv("out/by_region.csv")
open("result.txt", "w").write(str(total))
print("total", total, "hidden visible:", os.path.exists("../shared/secret/plan.md"))
"""
    res = call(env, "run_python", {"code": code})
    assert res.ok, res.content
    assert res.ended - res.started == DEFAULT_COSTS["run_python"]
    assert "total 15 hidden visible: False" in res.content
    assert "[saved to /workspace: out/by_region.csv, result.txt]" in res.content
    assert call(env, "read_file", {"path": "/workspace/result.txt"}).content == "15"
    assert call(env, "read_file", {"path": "/workspace/out/by_region.csv"}).content.splitlines() == [
        "region,amount", "north,15", "south,32"]
    assert env.world.record.files["/workspace/result.txt"][-1].author == "runner"
    # unchanged inputs are not written back as new versions
    assert len(env.world.record.files["/workspace/notes/in.txt"]) == 1


# --- tool schemas -----------------------------------------------------------------------------------------------
EXPECTED_TOOLS = {"list_tasks", "submit", "end_day", "wait", "list_colleagues", "lookup_colleague", "send_message",
                  "read_inbox", "list_files", "read_file", "write_file", "edit_file", "open_page", "list_rooms",
                  "room_schedule", "book_meeting", "cancel_meeting", "list_meetings", "attend_meeting",
                  "calculator", "run_python"}


#: the costs and read-only flags the tools declared when costs moved next to them (generation estimates
#: plans with these costs: a change here changes generated suites)
DECLARED = {
    "list_tasks": (1, True), "list_colleagues": (1, True), "lookup_colleague": (1, True), "send_message": (5, False),
    "read_inbox": (1, True), "list_files": (1, True), "read_file": (2, True), "write_file": (3, False),
    "edit_file": (3, False), "open_page": (2, True), "list_rooms": (1, True), "room_schedule": (1, True),
    "book_meeting": (5, False), "cancel_meeting": (2, False), "list_meetings": (1, True), "attend_meeting": (0, False),
    "calculator": (1, True), "run_python": (5, False), "submit": (2, False), "wait": (0, True), "end_day": (0, False),
    "notebook": (1, False),
}


def test_every_tool_declares_its_cost_and_whether_it_changes_the_world() -> None:
    meta = tool_meta(Toolbox)
    tools = {name for name, member in vars(Toolbox).items() if hasattr(member, "__firstday_tool__")}
    assert set(meta) == tools == set(DECLARED)
    assert {name: (m.cost, not m.writes) for name, m in meta.items()} == DECLARED
    assert {name: cost for name, (cost, _) in DECLARED.items()} == DEFAULT_COSTS  # derived, not declared again
    specs = {s.name: s for s in make_env().briefing().tools}
    assert {name: (s.cost_minutes, s.read_only) for name, s in specs.items()} == DECLARED
    with pytest.raises(ValueError, match="number of minutes"):
        tool(cost=-1, writes=False)


def test_tool_specs_and_costs() -> None:
    env = make_env()
    specs = {s.name: s for s in env.briefing().tools}
    assert set(specs) >= EXPECTED_TOOLS
    for name, s in specs.items():
        assert s.cost_minutes == DEFAULT_COSTS.get(name, 1)
        json.dumps(s.openai_schema())
    assert specs["send_message"].parameters["required"] == ["to", "text"]
    assert set(specs["wait"].parameters["properties"]) == {"minutes", "until", "for_message_from"}
    # costs can be overridden per environment, and the clock follows them
    cheap = make_env(config=EnvConfig(costs={"read_file": 7}))
    assert {s.name: s for s in cheap.briefing().tools}["read_file"].cost_minutes == 7
    assert {s.name: s for s in env.briefing().tools}["read_file"].cost_minutes == DEFAULT_COSTS["read_file"]
    res = call(drive_env_with(EnvConfig(costs={"read_file": 7})), "read_file", {"path": "/shared/data/sales.csv"})
    assert res.ended - res.started == 7


def drive_env_with(config: EnvConfig) -> DayEnv:
    env = drive_env()
    return DayEnv(env.scenario, env.day, config)
