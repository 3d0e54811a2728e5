"""Exercise checkers, one module per notebook, re-exported here: ``checks.check_softmax(fn)``.

Each checker tries the learner's function, prints one line (✅ correct, ❌ what is wrong, ⏳ not
attempted yet) and returns ``True``/``False``; it never raises for a wrong answer.

>>> from course_lib import checks
>>> checks.check_softmax(lambda x: torch.softmax(x, dim=-1))
✅ check_softmax: correct.
True
"""

from course_lib.checks.core import attempt, close, report
from course_lib.checks.welcome import check_reproducible, check_softmax, check_temperature

__all__ = ["attempt", "close", "report", "check_reproducible", "check_softmax", "check_temperature"]
