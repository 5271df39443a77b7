"""The same CLI session on a node running iExec's published PoCo 6.1.0 instead of the kit's
contracts: what a learner does here is what iExec's own protocol accepts."""

from __future__ import annotations

import zipfile

from iexec_kit.protocol.statuses import TaskStatus


def test_app_run_watch_on_the_published_poco(poco_node, iexec_on_poco):
    from iexec_kit.chain.published import PublishedDeployment

    assert isinstance(poco_node.sb.deployment, PublishedDeployment)  # iExec's bytecode
    iexec = iexec_on_poco
    sb = poco_node.sb
    shown = iexec.run("app", "show", sb.app_address)["app"]
    assert shown["owner"] == sb.app_developer.address
    assert shown["registry"] == sb.deployment.appregistry
    iexec.run("account", "deposit", "10", "RLC")
    iexec.run("storage", "init", "--force-update")
    run = iexec.run(*poco_node.info.app_run_args("--engine numpy", force=True), timeout=300)
    taskid = run["tasks"][0]["taskid"]
    assert sb.hub.task(taskid).status == TaskStatus.COMPLETED
    deal = iexec.run("deal", "show", run["deals"][0]["dealid"])["deal"]
    assert deal["sponsor"] == sb.requester.address
    shown = iexec.run("task", "show", taskid, "--download", "on-poco")
    with zipfile.ZipFile(shown["resultPath"]) as z:
        assert any(n.endswith(".png") for n in z.namelist())
