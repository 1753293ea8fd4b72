"""pytest.raises for the house rule that an error is one line (DESIGN.md: errors are part of the interface)."""
from __future__ import annotations

import pytest


def raises(match: str, cls=ValueError):
    """pytest.raises(cls, match=match) that also insists on a one-line message."""
    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(cls, match=match)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            out = self.ctx.__exit__(*exc)
            assert "\n" not in str(self.info.value), str(self.info.value)
            return out
    return _Check()
