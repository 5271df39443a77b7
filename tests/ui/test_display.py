"""Rich display of the kit's objects: small HTML tables in a notebook, a short plain line, and
the formatters IPython uses (registered by name, from the ui layer)."""

from __future__ import annotations

import pytest

from iexec_kit.poco.deals import Deal, Resource
from iexec_kit.poco.orders import AppOrder, RequestOrder
from iexec_kit.poco.tasks import Contribution, Task
from iexec_kit.poco.views import AppInfo
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.protocol.units import RLC, ZERO_ADDRESS
from iexec_kit.sandbox import AccountView
from iexec_kit.ui import display as D

OWNER = "0x" + "0a" * 20
APP = "0x" + "01" * 20
DEAL, TASK = "0x" + "22" * 32, "0x" + "11" * 32

ACCOUNT = AccountView("requester", "requester", OWNER, 10**18, 1000 * RLC, 15 * RLC, 2 * RLC)
APPINFO = AppInfo(APP, OWNER, "gimp-cartoon", "DOCKER", "me/app:1", "0x" + "ab" * 32, "")
DEAL_ = Deal(
    DEAL,
    Resource(APP, OWNER, 1 * RLC),
    Resource(ZERO_ADDRESS, ZERO_ADDRESS, 0),
    Resource("0x" + "02" * 20, OWNER, 3 * RLC // 2),
    5,
    0,
    "0x" + "00" * 32,
    OWNER,
    OWNER,
    ZERO_ADDRESS,
    "{}",
    0,
    0,
    2,
    RLC // 2,
    1,
)
TASK_ = Task(
    TASK,
    TaskStatus.REVEALING,
    DEAL,
    0,
    0,
    100,
    200,
    300,
    "0x" + "aa" * 32,
    0,
    3,
    (OWNER,),
    "0x" + "00" * 32,
    b"",
    0,
    b"",
)
CONTRIB = Contribution(ContributionStatus.PROVED, "0x" + "bb" * 32, "0x" + "cc" * 32, "", 2)
ORDER = AppOrder(APP, 3 * RLC // 2, volume=10, salt=b"\x01" * 32)
REQUEST = RequestOrder(app=APP, appmaxprice=RLC, requester=OWNER, workerpoolmaxprice=RLC, trust=5)

OBJECTS = [ACCOUNT, APPINFO, DEAL_, TASK_, CONTRIB, ORDER, REQUEST]


@pytest.mark.parametrize("obj", OBJECTS, ids=[type(o).__name__ for o in OBJECTS])
def test_html_is_a_small_table_with_short_addresses_and_a_short_plain_line(obj):
    html = D.rich_html(obj)
    assert html.startswith("<div class='iexec-rich'>") and "<table" in html
    text = D.short_repr(obj)
    assert text.startswith("<") and len(text) < 120 and "000000000" not in text, text
    # every long address is cut, with the whole value on hover
    for value in (OWNER, APP, DEAL, TASK):
        if value in html:
            assert f"title='{value}'" in html and f"{value[:8]}…{value[-4:]}" in html


def test_amounts_in_rlc_and_statuses_in_words():
    assert "15 RLC" in D.rich_html(ACCOUNT) and "1,000 RLC" in D.rich_html(ACCOUNT)
    assert str(15 * RLC) not in D.rich_html(ACCOUNT)
    deal = D.rich_html(DEAL_)
    assert "2.5 RLC" in deal and "1.5 RLC per task" in deal and "0.5 RLC per contribution" in deal
    assert "the winners reveal" in D.rich_html(TASK_) and "REVEALING" in D.rich_html(TASK_)
    assert "rewarded" in D.rich_html(CONTRIB)
    order = D.rich_html(ORDER)
    assert "1.5 RLC per task" in order and "any dataset" in order and "not signed" in order
    assert "standard (no TEE, no GPU)" in order
    assert "credibility &gt; 0.80" in D.rich_html(REQUEST)
    assert D.rich_html(object()) is None and D.short_repr(1) is None


def test_registered_with_ipython_by_name():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert D.register(shell)
        for obj in OBJECTS:
            data, _ = shell.display_formatter.format(obj)
            assert data["text/html"] == D.rich_html(obj)
            assert data["text/plain"] == D.short_repr(obj)
    finally:
        InteractiveShell.clear_instance()


def test_register_outside_ipython_does_nothing():
    import subprocess
    import sys

    code = (
        "import sys; import iexec_kit.ui; from iexec_kit.ui import display; "
        "assert 'IPython' not in sys.modules; assert display.register() is False"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
