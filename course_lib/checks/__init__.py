"""Exercise checkers, one module per notebook, re-exported here: ``checks.check_softmax(fn)``.

Each checker tries the learner's answer, prints one line (✅ correct, ❌ what is wrong, ⏳ not
answered yet) and returns ``True``/``False``; it never raises, so a notebook runs top to bottom.
Each call also records a ``Verdict`` in ``VERDICTS`` (and in ``$COURSE_LIB_VERDICTS`` when set),
which is how ``tools/grade.py`` reads a submission's results.

>>> from course_lib import checks
>>> checks.check_softmax(lambda x: torch.softmax(x, dim=-1))
✅ check_softmax: correct.
True
"""

from course_lib.checks.core import VERDICTS, Verdict, attempt, checker, close, not_answered, number, report
from course_lib.checks.welcome import check_half_temperature, check_perplexity_bound, check_softmax

__all__ = ["VERDICTS", "Verdict", "attempt", "checker", "close", "not_answered", "number", "report",
           "check_half_temperature", "check_perplexity_bound", "check_softmax"]
