"""``mistake(flag_id, value, hint)``: declare a common wrong way to compute a flag.

For authors, in the solution notebooks: a code cell tagged ``mistakes`` right after a flag's
solution cell computes the flag the wrong ways students often do, and declares each::

    checks.mistake("2.1", recall_score(y_train_target, y_scores >= threshold),
                   "That is the recall, not the precision: ...")

``python -m checks keys`` executes the solutions and stores each declared value as a salted hash
with its hint (:mod:`checks.answer_keys`); a student whose answer is that value is then told the
hint instead of the flag's generic one. ``python -m checks release`` removes these cells from the
student notebooks. Outside a recording run the call does nothing.
"""

from __future__ import annotations

from checks import recording
from checks.catalogue import UnknownFlag, get_flag

#: The cell tag of the mistake declarations in a solution notebook.
MISTAKES_TAG = "mistakes"


def mistake(flag_id: str, value: object, hint: str) -> None:
    """Declare that ``value`` is what a common mistake gives for the flag, and what to say then.

    Parameters
    ----------
    flag_id : str
        The flag, as in :func:`checks.check`.
    value : object
        The value the wrong computation gives; it must differ from the right answer and from the
        flag's other declared mistakes (``python -m checks keys`` refuses it otherwise).
    hint : str
        What a student whose answer is this value reads after "Not quite —": name the mistake
        and say where to look, without giving the right answer or its code.

    Raises
    ------
    ValueError
        If the flag does not exist or the hint is empty; when recording, also if the value cannot
        be an answer to the flag. These are authors' errors, so they stop the run.

    See Also
    --------
    checks.check : Check an answer.

    Examples
    --------
    >>> import checks
    >>> checks.mistake("1.1", 1234, "That counts every image, not the target digit's.")
    """
    try:
        flag = get_flag(flag_id)
    except UnknownFlag as error:
        raise ValueError(str(error)) from None
    if not isinstance(hint, str) or not hint.strip():
        raise ValueError(f"flag {flag.id}: a declared mistake needs a hint for the student")
    recording.record_mistake(flag, value, hint.strip())
