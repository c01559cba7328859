"""The Gradio app: upload -> see what was heard and planned -> edit -> render -> play.

Run it with ``spa2v ui``. Each event handler calls a plain function from
:mod:`spa2v.interfaces.ui.session` and turns user errors into ``gr.Error`` toasts, so a
bad upload never breaks the server for the next user.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

from spa2v.errors import Spa2vError
from spa2v.interfaces.ui import session
from spa2v.interfaces.ui.session import TABLE_COLUMNS, Limits

PLANNERS = ("physics", "llm")
#: What a user sees of a bug (the details, which may hold server paths, go to the log).
_INTERNAL = "internal error while {what} ({kind}); the server log has the details"
GENERATORS = ("animatic", "diffusion")


def planner_availability() -> dict[str, str | None]:
    """Planner name -> None when usable, else the reason it is not."""
    missing = [v for v in ("SPA2V_LLM_BASE_URL", "SPA2V_LLM_MODEL") if not os.environ.get(v)]
    llm = f"set {' and '.join(missing)} before starting the app" if missing else None
    return {"physics": None, "llm": llm}


def generator_availability() -> dict[str, str | None]:
    """Generator name -> None when usable, else the reason it is not."""
    reason: str | None = None
    if importlib.util.find_spec("diffusers") is None or importlib.util.find_spec("torch") is None:
        reason = "install the extra: pip install 'spa2v[diffusion]'"
    else:
        import torch

        if not torch.cuda.is_available():
            reason = "needs a CUDA GPU (none found)"
    return {"animatic": None, "diffusion": reason}


def _examples() -> dict[str, tuple[Path, str]]:
    """Bundled example recordings: name -> (path, channel layout they were made with)."""
    from spa2v.examples import EXAMPLES, example_path

    return {ex.name: (example_path(ex), ex.layout) for ex in EXAMPLES}


def build_app(limits: Limits | None = None, root: Path | None = None) -> Any:
    """Create the Gradio Blocks app (not launched); each request works in its own folder
    under ``root`` (default: ``session.DEFAULT_ROOT``)."""
    import gradio as gr

    limits = limits or Limits()
    planners = planner_availability()
    generators = generator_availability()
    examples = _examples()

    def on_plan(
        upload: str | None,
        example: str | None,
        planner: str,
        kf_per_s: float,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio finds it by default)
    ) -> tuple[Any, ...]:
        layout = None
        source: str | Path
        if upload:
            source = upload
        elif example in examples:
            source, layout = examples[example]
        else:
            raise gr.Error("Upload an audio or video file, or pick a bundled example.")
        progress(0.1, desc="hearing and planning")
        try:
            result = session.hear_and_plan(
                source,
                planner=planner,
                keyframes_per_s=kf_per_s,
                limits=limits,
                layout=layout,
                root=root,
            )
        except Spa2vError as exc:
            raise gr.Error(session.public_message(str(exc))) from None
        except Exception as exc:  # a bug: keep serving, keep the traceback in the server log
            logging.getLogger(__name__).exception("planning failed")
            raise gr.Error(_INTERNAL.format(what="planning", kind=type(exc).__name__)) from exc
        state = {
            "workdir": str(result.workdir),
            "audio": str(result.audio_path),
            "layout": str(result.layout_path),
        }
        return (
            str(result.cues_plot_path),
            result.summary_markdown,
            str(result.layout_plot_path),
            result.table,
            state,
            [str(result.cues_path), str(result.layout_path)],
        )

    def on_render(
        state: dict[str, str] | None,
        table: Any,
        generator: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio finds it by default)
    ) -> tuple[Any, ...]:
        from spa2v.planning.vsl import load_vsl

        if not state:
            raise gr.Error("Hear and plan a recording first.")
        rows = table.values.tolist() if hasattr(table, "values") else list(table or [])
        workdir = Path(state["workdir"])
        if not workdir.is_dir():
            raise gr.Error(
                "This recording's files have expired on the server: hear and plan it again."
            )
        try:
            vsl = session.rows_to_vsl(load_vsl(state["layout"]), rows)
            progress(0.2, desc="rendering")
            video, layout = session.render_layout(
                vsl, Path(state["audio"]), workdir, generator=generator
            )
            plot = session.plot_layout(vsl, workdir / "layout-edited.png")
        except Spa2vError as exc:
            aliases = {state["audio"]: "the uploaded recording"}
            raise gr.Error(session.public_message(str(exc), aliases)) from None
        except Exception as exc:  # a bug: keep serving, keep the traceback in the server log
            logging.getLogger(__name__).exception("rendering failed")
            raise gr.Error(_INTERNAL.format(what="rendering", kind=type(exc).__name__)) from exc
        return str(video), str(plot), [str(layout), str(workdir / "cues.json"), str(video)]

    # Gradio keeps its own copies of uploads and served files: expire them as ours.
    keep_s = int(max(1, limits.keep_files_s))
    with gr.Blocks(title="spa2v", delete_cache=(max(1, keep_s // 10), keep_s)) as app:
        gr.Markdown(
            "# spa2v\nTurn a recording into a video whose layout matches what "
            "you hear: where each sound is, and how it moves."
        )
        state = gr.State(None)
        with gr.Row():
            with gr.Column():
                upload = gr.File(label="Audio or video file", type="filepath", elem_id="upload")
                example = gr.Dropdown(
                    choices=sorted(examples),
                    value=None,
                    label="...or a bundled example",
                    elem_id="example",
                )
                planner = gr.Radio(
                    [p for p in PLANNERS if planners[p] is None],
                    value="physics",
                    label="Planner",
                    elem_id="planner",
                )
                _unavailable("planners", planners, gr)
                kf = gr.Slider(1, 16, value=8, step=1, label="Keyframes per second")
                plan_btn = gr.Button("Hear and plan", variant="primary", elem_id="plan")
            with gr.Column():
                cue_plot = gr.Image(
                    label="What was heard (azimuth, loudness, pitch)", elem_id="cue-plot"
                )
                summary = gr.Markdown(elem_id="summary")
        with gr.Row():
            layout_plot = gr.Image(label="Layout: box trajectories", elem_id="layout-plot")
            table = gr.Dataframe(
                headers=TABLE_COLUMNS,
                label="Keyframes (editable)",
                interactive=True,
                elem_id="keyframes",
                datatype=["number", "number", "str", "number", "number", "number", "number"],
            )
        with gr.Row():
            generator = gr.Radio(
                [g for g in GENERATORS if generators[g] is None],
                value="animatic",
                label="Generator",
                elem_id="generator",
            )
            _unavailable("generators", generators, gr)
            render_btn = gr.Button("Render video", variant="primary", elem_id="render")
        video = gr.Video(label="Video", elem_id="video", height=400)
        downloads = gr.Files(label="Downloads (layout, cues, video)", elem_id="downloads")

        plan_btn.click(
            on_plan,
            [upload, example, planner, kf],
            [cue_plot, summary, layout_plot, table, state, downloads],
        )
        render_btn.click(on_render, [state, table, generator], [video, layout_plot, downloads])
    app.queue(default_concurrency_limit=2, max_size=32)
    return app


def _unavailable(kind: str, availability: dict[str, str | None], gr: Any) -> None:
    """Show the backends that cannot run here, disabled, each with its reason."""
    reasons = [f"{name} — {why}" for name, why in availability.items() if why]
    if reasons:
        gr.Radio(
            reasons, label=f"Unavailable {kind}", interactive=False, elem_classes=["unavailable"]
        )


def launch(
    host: str = "127.0.0.1",
    port: int | None = None,
    limits: Limits | None = None,
    block: bool = True,
) -> Any:
    """Build and start the app; returns the Gradio app (non-blocking when block=False)."""
    limits = limits or Limits()
    app = build_app(limits)
    session.start_cleaner(None, limits.keep_files_s)  # per-request folders expire
    app.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=not block,
        max_file_size=f"{limits.max_upload_mb:g}mb",
        quiet=not block,
        show_error=True,
    )
    return app
