"""What pair and conversation dedup compares (``on``), and the ``both`` rule for pairs."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.dedup import DedupItem, find_duplicates
from catalog.dedup.fields import DEFAULT_ON, dedup_text, dedup_texts, find_pair_duplicates, pair_texts, resolve_on
from catalog.errors import BadInput
from catalog.record_mapping import FieldError, FieldMapping

PAIRS = FieldMapping(kind="pairs", prompt_field="q", response_field="a")
CHATS = FieldMapping(kind="conversations", messages_field="messages")
TEXTS = FieldMapping(kind="text", text_fields=["body"])
REPLY = ("Just make sure the engineer can reach the front of the house and the spot where you'd like the "
         "fibre box. They'll test the line, set up the router and check wifi in a few rooms before leaving.")


def test_on_choices_and_defaults_per_kind():
    assert DEFAULT_ON == {"pairs": "both", "conversations": "user_turns", "text": "text"}
    assert resolve_on("pairs", None) == "both"
    assert resolve_on("conversations", "first_user") == "first_user"
    with pytest.raises(BadInput, match="does not fit text records.*text"):
        resolve_on("text", "prompt")
    with pytest.raises(BadInput, match="does not fit conversations.*user_turns, first_user, text"):
        resolve_on("conversations", "prompt")
    with pytest.raises(BadInput, match="does not fit pairs"):
        resolve_on("pairs", "first_user")
    with pytest.raises(BadInput, match="table"):
        resolve_on("table", None)


def test_pair_selection():
    row = {"q": "What happens on installation day?", "a": REPLY, "extra": 1}
    assert dedup_text(row, PAIRS, "prompt") == row["q"]
    assert dedup_text(row, PAIRS, "response") == REPLY
    assert dedup_text(row, PAIRS, "text") == f"{row['q']}\n\n{REPLY}"
    with pytest.raises(BadInput, match="both"):
        dedup_text(row, PAIRS, "both")
    assert pair_texts([row], PAIRS) == ([row["q"]], [REPLY])
    with pytest.raises(BadInput, match="record 'r7'.*missing or empty.*--on prompt"):
        dedup_texts([row, {"a": REPLY}], PAIRS, "prompt", ids=["r1", "r7"])
    assert dedup_text({"body": "hello"}, TEXTS, "text") == "hello"


def test_conversation_selection_with_both_message_layouts():
    chat = {"messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "My router blinks orange."},
                         {"role": "assistant", "content": "Restart it."},
                         {"role": "user", "content": "Still orange."}]}
    sharegpt = {"messages": [{"from": "human", "value": "My router blinks orange."},
                             {"from": "gpt", "value": "Restart it."}]}
    assert dedup_text(chat, CHATS, "first_user") == "My router blinks orange."
    assert dedup_text(chat, CHATS, "user_turns") == "My router blinks orange.\nStill orange."
    assert dedup_text(chat, CHATS, "text").startswith("system: Be brief.\nuser: My router")
    assert dedup_text(sharegpt, CHATS, "user_turns") == "My router blinks orange."
    with pytest.raises(FieldError, match="no user message"):
        dedup_text({"messages": [{"role": "assistant", "content": "Hi"}]}, CHATS, "first_user")
    with pytest.raises(BadInput, match="record 1.*no user message"):
        dedup_texts([chat, {"messages": [{"role": "system", "content": "x"}]}], CHATS, "user_turns")


def _items(prompts):
    return [DedupItem(record_id=f"r{i}", text=p) for i, p in enumerate(prompts)]


def test_same_reply_to_different_questions_survives_prompt_dedup_but_not_text_dedup():
    prompts = ["What happens on installation day? Do I need to do anything beforehand?",
               "first time getting fibre, what should I expect",
               "what happens on installation day?? do i need to do anything beforehand"]
    rows = [{"q": p, "a": REPLY} for p in prompts]
    by_prompt = find_duplicates(_items(dedup_texts(rows, PAIRS, "prompt")), semantic=False)
    assert {(r.record_id, r.duplicate_of) for r in by_prompt.removed} == {("r2", "r0")}
    by_text = find_duplicates(_items(dedup_texts(rows, PAIRS, "text")), semantic=False)
    assert "r1" in by_text.removed_ids()          # the long shared reply outweighs the prompt


def test_both_needs_prompt_and_response_to_match():
    p = "Why is there a 49 pound fee on my bill, I thought installation was free?"
    other = ("Installation is free on 24-month contracts, but your order was on a 12-month term, which has "
             "a set-up fee. I can move you to 24 months today and refund the fee as a credit.")
    prompts = [p, p.upper(), p + " ", "Completely different question about my router lights?"]
    responses = [REPLY, REPLY.replace("engineer", "technician"), other, REPLY]
    res = find_pair_duplicates(_items(prompts), responses, semantic=False)
    assert {(r.record_id, r.duplicate_of) for r in res.removed} == {("r1", "r0")}
    (removal,) = res.removed
    assert removal.stage == "minhash" and 0.5 <= removal.score < 1.0      # prompt exact, response minhash
    assert res.params["on"] == "both" and res.stage_info["both"]["kept_for_a_different_response"] == 1
    assert res.clusters[0].keeper == "r0" and res.clusters[0].removed == ("r1",)
    # a third record whose response matches the *second* kept one (r2) goes as a copy of r2
    res = find_pair_duplicates(_items(prompts + [p.lower()]), responses + [other + " "], semantic=False)
    assert {(r.record_id, r.duplicate_of) for r in res.removed} == {("r1", "r0"), ("r4", "r2")}


def test_both_with_response_vectors_and_references():
    prompts = ["reset my password please", "Reset my password, please", "reset my password please!"]
    responses = ["Go to settings.", "Open the app and tap Forgot password.", "Open the app; tap Forgot password"]
    vecs = np.array([[1.0, 0.0], [0.0, 1.0], [0.05, 1.0]], dtype=np.float32)
    items = _items(prompts)
    items[1] = DedupItem(record_id="r1", text=prompts[1], reference=True)
    res = find_pair_duplicates(items, responses, vectors=vecs, response_vectors=vecs, minhash=False)
    assert {(r.record_id, r.duplicate_of) for r in res.removed} == {("r2", "r1")}
    assert res.references == 1
    with pytest.raises(BadInput, match="responses"):
        find_pair_duplicates(items, responses[:2], semantic=False)
