"""Reports: the HTML report of a results file (one section per scenario) and of a comparison (jinja2 templates,
seaborn SVG figures, formatting filters), the overview and Markdown summary, the workload in words, the terminal
summary, and the cited references. No torch.
"""
