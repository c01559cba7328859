"""The web app (``spa2v ui``): the whole pipeline in a browser, built with Gradio.

``session`` holds the pipeline steps and table conversions as plain functions (testable
without a browser); ``app`` wires them to Gradio components.
"""
