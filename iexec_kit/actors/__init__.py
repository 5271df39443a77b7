"""Off-chain roles, and the events they emit. Import the module you need; nothing heavy is
imported here.

- :mod:`~iexec_kit.actors.requester`: buy an execution (best orders, funds checked, matchOrders);
- :mod:`~iexec_kit.actors.scheduler`: the workerpool's scheduler (like iexec-core);
- :mod:`~iexec_kit.actors.worker`: workers (like iexec-worker), with teaching behaviours;
- :mod:`~iexec_kit.actors.events`: typed events and the :class:`EventStream` views subscribe to;
- :mod:`~iexec_kit.actors.views`: views of the event stream (tasks, contributions, credibility,
  consensus) as plain data, what the notebooks' watcher renders;
- :mod:`~iexec_kit.actors.results`: the requester downloads a task's result and checks its digest;
- :mod:`~iexec_kit.actors.drive`: the deterministic drive (to the end, or a generator of events).

The demo's scenario (its steps, the whole demo in one call) is above the sandbox, in
:mod:`iexec_kit.tutorial`.
"""
