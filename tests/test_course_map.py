import re

from course_lib.course_map import GLOSSARY, LESSONS, Term, glossary_markdown, plot_road_map
from tests.support.figures import assert_readable


def test_lessons_are_numbered_in_order_and_feed_only_later_lessons():
    numbers = [lesson.number for lesson in LESSONS]
    assert numbers == [f"{i:02d}" for i in range(13)]
    for lesson in LESSONS:
        assert all(target > lesson.number and target in numbers for target in lesson.feeds), lesson


def test_every_lesson_but_the_first_is_fed_by_an_earlier_one():
    fed = {t for lesson in LESSONS for t in lesson.feeds}
    assert fed == set(n.number for n in LESSONS[1:])


def test_road_map_draws_every_lesson():
    fig = plot_road_map()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for lesson in LESSONS:
        assert lesson.number in texts
    assert "toy world" in texts
    assert_readable(fig)  # >= 8 pt, no two texts overlapping


def test_glossary_is_bilingual_and_escaped():
    assert len(GLOSSARY) >= 40
    assert all(re.search(r"[\u4e00-\u9fff]", t.chinese) for t in GLOSSARY)
    names = {t.english for t in GLOSSARY}
    for needed in ("word embedding", "self-attention", "fine-tuning", "pre-training", "masked language model (MLM)",
                   "next sentence prediction (NSP)", "positional encoding", "layer normalization"):
        assert needed in names
    table = glossary_markdown()
    assert table.count("\n") == len(GLOSSARY) + 1
    hostile = glossary_markdown((Term("<script>x</script>", "词", "a|b", "00"),))
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile and "a\\|b" in hostile
