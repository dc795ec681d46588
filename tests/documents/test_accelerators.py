"""reportlab draws with its C accelerators (the rl_accel package), not their Python fallbacks."""

import types

from reportlab.lib import rl_accel


def test_reportlab_uses_its_c_accelerators():
    # A missing rl_accel falls back silently: each printed slip then takes about a fifth longer.
    for name in ("fp_str", "instanceStringWidthTTF", "asciiBase85Encode", "sameFrag"):
        assert isinstance(getattr(rl_accel, name), types.BuiltinFunctionType), name
