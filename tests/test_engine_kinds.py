"""Each step kind: its own labelled field, its checks, its locked summary; and the 15-line example workflow."""
import pytest
from fasthtml.common import to_xml
from starlette.datastructures import FormData

from server.engine import Choice, Choices, Flag, Invalid, LongText, Number, Text
from tests.engine_support import EXAMPLES

KINDS = [
    (Text("name", "Name"), "<input", "Arthur", "Arthur"),
    (LongText("note", "Note"), "<textarea", "line one\nline two", "line one\nline two"),
    (Choice("color", "Colour", {"b": "Blue", "r": "Red"}), "<select", "b", "Blue"),
    (Choice("color", "Colour", {"b": "Blue", "r": "Red"}, radios=True), 'type="radio"', "r", "Red"),
    (Number("age", "Age", min=1, max=120), 'type="number"', "42", "42"),
    (Choices("tags", "Tags", {"a": "Alpha", "b": "Beta"}), 'type="checkbox"', ["a", "b"], "Alpha, Beta"),
    (Flag("ok", "Agree?"), 'type="radio"', "yes", "Yes"),
]


KIND_IDS = [f"{type(k[0]).__name__}{i}" for i, k in enumerate(KINDS)]


@pytest.mark.parametrize("step,control,raw,shown", KINDS, ids=KIND_IDS)
def test_each_kind_renders_its_labelled_field_and_its_summary(step, control, raw, shown):
    form = FormData([(step.id, v) for v in (raw if isinstance(raw, list) else [raw])])
    value = step.clean(form)
    html = to_xml(step.control(value))
    assert control in html and f'name="{step.id}"' in html
    if step.grouped:  # a group of boxes: every box has its own label, the card's header names the fieldset
        assert html.count("<label") == len(step.shown) and f'aria-labelledby="label-{step.id}"' in html
    else:
        assert f'id="field-{step.id}"' in html
    assert shown in to_xml(step.summary(value))


def test_choice_stores_the_value_and_shows_the_label():
    step = Choice("intent", "Intent", {"buy": "Transactional", "info": "Informational"})
    assert step.clean({"intent": "buy"}) == "buy"
    assert "Transactional" in to_xml(step.summary("buy"))
    assert '<option value="buy" selected>Transactional</option>' in to_xml(step.control("buy"))
    with pytest.raises(Invalid, match="Transactional, Informational"):
        step.clean({"intent": "Transactional"})  # the shown label is not a stored value


@pytest.mark.parametrize("step,form,message", [
    (Text("name", "Name"), {"name": "  "}, "Please give an answer"),
    (Text("name", "Name", max_length=10), {"name": "x" * 11}, "too long"),
    (LongText("note", "Note", max_length=2000), {"note": "x" * 2500}, "2,500 characters"),
    (Choice("c", "C", ("red", "blue")), {"c": "purple"}, "Please choose one of"),
    (Number("n", "N", min=1, max=10), {"n": "11"}, "from 1 to 10"),
    (Number("n", "N"), {"n": "ten"}, "not a whole number"),
    (Number("n", "N", decimals=True), {"n": "nan"}, "finite"),
    (Choices("t", "T", ("a", "b"), at_least=1), FormData([("t", "zzz")]), "at least 1"),
    (Flag("f", "F"), {"f": "maybe"}, "Yes or No"),
    (Flag("f", "F"), {}, "Yes or No"),
])
def test_each_kind_refuses_bad_answers_with_a_message(step, form, message):
    with pytest.raises(Invalid, match=message):
        step.clean(form)


def test_flag_and_number_store_typed_values():
    assert Flag("f", "F").clean({"f": "no"}) is False
    assert Number("n", "N").clean({"n": " 7 "}) == 7
    assert Number("n", "N", decimals=True).clean({"n": "2.5"}) == 2.5


def test_a_step_id_must_be_a_field_name_and_not_reserved():
    for bad in ("finalize", "refill", "step 1", ""):
        with pytest.raises(ValueError):
            Text(bad, "x")


def test_the_keyword_notes_example_is_at_most_15_lines():
    assert len((EXAMPLES / "keyword_notes.py").read_text().splitlines()) <= 15
