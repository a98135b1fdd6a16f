"""``captchalab audit``: how hard a captcha scheme is to break, why, and what to change.

:func:`captchalab.audit.pipeline.run_audit` measures cost-to-break learning curves (from
scratch and fine-tuned from the shipped default model), off-the-shelf attacks, error
factors (per position, confusions, one-factor-at-a-time sensitivity, factors measured on
the images), saliency and attention maps, and ranks advice; ``report.py`` writes
report.html, summary.md and metrics.json.
"""
