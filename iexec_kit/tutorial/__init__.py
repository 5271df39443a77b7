"""The tutorial's scenarios, above the :class:`~iexec_kit.sandbox.Sandbox`: the demo's steps as
functions, the whole demo in one call, and the fast-forward the notebooks start from. Import the
module you need; nothing heavy is imported here.

- :mod:`~iexec_kit.tutorial.demo`: the demo's steps and :func:`~iexec_kit.tutorial.demo.run_demo`
  (what ``iexec-kit demo`` runs), with one set of prices, deposits and params
  (:class:`~iexec_kit.tutorial.demo.DemoConfig`);
- :mod:`~iexec_kit.tutorial.steps`: :func:`~iexec_kit.tutorial.steps.at` fast-forwards a fresh
  sandbox to a notebook's step with the same step functions and defaults as the demo.
"""
