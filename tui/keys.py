"""The playground's keys that open something (help, presets, share, export, variants) or change what is
built (freeze a base): a mixin of :class:`~.app.NnplayApp`, each key handed to the module that does it."""
from __future__ import annotations

from .commands import open_preset_screen, save_preset_screen, share_setup
from .screens.help import HelpScreen
from .variants import compare_ab, compare_variants, pick_variant


class OtherKeysMixin:
    """Actions of :class:`~.app.NnplayApp` (uses its ``setup``, ``notify``, ``rebuild``, ``push_screen``)."""

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_save_preset(self) -> None:
        save_preset_screen(self)

    def action_open_preset(self) -> None:
        open_preset_screen(self)

    def action_share(self) -> None:
        share_setup(self)

    def action_export(self) -> None:
        from .exporting import export_current
        export_current(self)

    def action_toggle_base(self) -> None:
        """Freeze or unfreeze a [model.base] (between runs: the model is built again from the base)."""
        base = self.setup.get("model", {}).get("base")
        if not base:
            self.notify("this setup has no [model.base] (transfer-digits-bold has one); f freezes one layer",
                        title="no base", timeout=5)
            return
        frozen = base.get("trainable", not base.get("pretrained", True)) is False
        base["trainable"] = frozen
        self.rebuild(note=f"base {'unfrozen' if frozen else 'frozen'}")

    def action_pick_variant(self) -> None:
        pick_variant(self)

    def action_compare_variants(self) -> None:
        compare_variants(self)

    def action_ab(self) -> None:
        compare_ab(self)
