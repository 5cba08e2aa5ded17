"""The composition root: builds the services, the controllers and the main window, and runs the qasync loop.

Start-up order is chosen for the first paint: settings and the last conversation are read and the window is
built and painted (a few milliseconds of SQLite) before the controllers, asyncio and the qasync loop are imported
and built (:meth:`FirstScreen.complete`), while the keyring, tiktoken, ``openai`` and the network wait until the
window is up.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from PySide6.QtCore import QEventLoop, QLocale, QTimer
from PySide6.QtWidgets import QApplication, QLabel

from desktop_assistant import APP_ID, APP_NAME, __version__, _enum_start, _qt_start  # noqa: F401  (_qt_start first)
from desktop_assistant.controllers.attachments import AttachmentsController
from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.instance import InstanceGuard
from desktop_assistant.controllers.notices import NoticeBus, install_exception_hooks
from desktop_assistant.core.memory import keep_out_of_full_collections
from desktop_assistant.core.models import Conversation, Message
from desktop_assistant.core.redact import redact
from desktop_assistant.services.drafts import NEW_CHAT, DraftStore, KeptDraft
from desktop_assistant.services.first_screen import FirstScreenCache
from desktop_assistant.services.image_store import ImageStore
from desktop_assistant.services.migrations import MigrationFailedError, NewerDatabaseError
from desktop_assistant.services.paths import AppPaths
from desktop_assistant.services.secrets import SecretStore
from desktop_assistant.services.settings import SettingsStore
from desktop_assistant.services.store import Store
from desktop_assistant.ui import icons, theme
from desktop_assistant.ui.main_window import MainWindow

if TYPE_CHECKING:  # the controllers are built once the window is painted; extraction and the lab later still
    from desktop_assistant.controllers.batches import BatchController
    from desktop_assistant.controllers.chat import ChatController
    from desktop_assistant.controllers.data import DataController
    from desktop_assistant.controllers.drafts import DraftKeeper, TextKeeper
    from desktop_assistant.controllers.estimates import EstimateController
    from desktop_assistant.controllers.extraction import ExtractionController
    from desktop_assistant.controllers.lab import LabController
    from desktop_assistant.controllers.lifecycle import Lifecycle
    from desktop_assistant.controllers.runner import OperationRunner
    from desktop_assistant.controllers.search import SearchController
    from desktop_assistant.controllers.usage import UsageController
    from desktop_assistant.services.backup import BackupInfo
    from desktop_assistant.services.token_cache import TokenCountCache
    from desktop_assistant.ui.chat.voice_wiring import VoiceWiring

log = logging.getLogger(__name__)


@dataclass
class AppParts:
    """Everything :func:`build` made, for ``main`` and for tests."""

    window: MainWindow
    chat: ChatController
    endpoint: EndpointController
    estimates: EstimateController
    usage: UsageController
    attachments: AttachmentsController
    data: DataController
    runner: OperationRunner
    notices: NoticeBus
    lifecycle: Lifecycle
    store: Store
    paths: AppPaths
    search: SearchController
    voice: VoiceWiring
    drafts: DraftKeeper | None = None
    texts: TextKeeper | None = None
    lab: LabController | None = None
    token_counts: TokenCountCache | None = None
    recovered: tuple[Path, BackupInfo] | None = None  # the damaged database moved aside, and a backup to restore
    # built by after_first_paint (their imports, pydantic among them, are not needed for the first paint)
    extraction: ExtractionController = field(init=False)
    batches: BatchController = field(init=False)


@dataclass
class FirstScreen:
    """The window showing what was read from the store, before the controllers it acts through exist.

    :meth:`complete` imports, builds and binds them: ``main`` calls it once the window is painted.
    """

    window: MainWindow
    paths: AppPaths
    quit: Callable[[], None]
    secrets: SecretStore
    endpoint: EndpointController
    store: Store
    images: ImageStore
    attachments: AttachmentsController
    notices: NoticeBus
    last: Conversation | None
    messages: list[Message]
    draft: KeptDraft
    recovered: tuple[Path, BackupInfo] | None = None  # the damaged file moved aside, and a backup to restore

    def complete(self) -> AppParts:
        """Build the controllers, bind the window to them and let the chat controller take over the transcript."""
        from desktop_assistant.controllers.chat import ChatController
        from desktop_assistant.controllers.data import DataController
        from desktop_assistant.controllers.drafts import DraftKeeper, TextKeeper
        from desktop_assistant.controllers.estimates import EstimateController
        from desktop_assistant.controllers.lifecycle import Lifecycle
        from desktop_assistant.controllers.runner import OperationRunner
        from desktop_assistant.controllers.search import SearchController
        from desktop_assistant.controllers.tools import ToolLoop
        from desktop_assistant.controllers.usage import UsageController
        from desktop_assistant.controllers.voice import VoiceController
        from desktop_assistant.core.mcp_config import servers_from_json
        from desktop_assistant.services.mcp_servers import McpServers
        from desktop_assistant.services.token_cache import TokenCountCache
        from desktop_assistant.ui.chat.tool_wiring import ToolWiring
        from desktop_assistant.ui.chat.voice_wiring import VoiceWiring

        endpoint, store, notices, window = self.endpoint, self.store, self.notices, self.window
        token_counts = TokenCountCache(store)  # counts made in earlier sessions: the tokenizer waits until needed
        token_counts.install()

        async def close_store() -> None:
            await drafts.flush()
            await texts.flush()
            await FirstScreenCache(store).save(chat.path, theme.is_dark())
            await token_counts.save()
            token_counts.uninstall()
            await store.close()

        runner = OperationRunner(notices)
        mcp = McpServers(servers_from_json(endpoint.settings.mcp_servers)[0], self.secrets.get_secret)  # on first use
        lifecycle = Lifecycle(runner, quit=self.quit, flushers=[endpoint.gateway.close, mcp.close, close_store])
        usage = UsageController(store, endpoint, notices)
        data = DataController(store, runner, notices, keep=lambda: endpoint.settings.auto_backup_keep,
                              images=self.images)
        chat = ChatController(store, endpoint, runner, usage, self.attachments)
        chat.tools = ToolLoop(store, endpoint, mcp, self.images, self.secrets, chat)
        estimates = EstimateController(chat, runner, self.attachments, remember=token_counts.save)
        window.bind(chat, estimates, usage, data, runner, lifecycle)
        drafts = DraftKeeper(DraftStore(store), runner, window.draft_to_keep, self.attachments,
                             window.composer.set_text, window, edits=window.editing)
        drafts.restored(self.draft, self.last.id if self.last else None)
        chat.conversationOpened.connect(drafts.opened)
        chat.conversationStored.connect(drafts.stored)
        texts = TextKeeper(DraftStore(store), runner, window)
        window.composer.draftChanged.connect(drafts.changed)
        chat.sendAccepted.connect(drafts.save_now)
        data.restored.connect(drafts.forget)
        voice = VoiceController(store, endpoint, runner, usage, self.paths.data / "speech",
                                lambda: chat.conversation.id if chat.conversation else None)
        voice_wiring = VoiceWiring(window, window.composer, window.transcript, voice,
                                   lambda text: window.statusBar().showMessage(text, 8000), window.banner.show_offer)
        window.attach_wiring.take_audio = voice_wiring.take_files  # an audio file picked is transcribed too
        window.escape_first.append(voice_wiring.throw_away_recording)
        search = SearchController(store, endpoint, runner, usage, remember=token_counts.save)
        window.attach_search(search)
        data.imported.connect(lambda _count: search.top_up())  # (searched by meaning at once, not next start)
        window.attach_tools(ToolWiring(window, chat, chat.tools, runner.start))
        chat.tools.definitionsKnown.connect(lambda: estimates.draft_changed(window.composer.text))
        chat.show_initial(self.last, self.messages)  # the same conversation: its views are kept
        return AppParts(window, chat, endpoint, estimates, usage, self.attachments, data, runner, notices, lifecycle,
                        store, self.paths, search, voice_wiring, drafts=drafts, texts=texts,
                        token_counts=token_counts, recovered=self.recovered)


@overload
def build(paths: AppPaths, quit: Callable[[], None], environ: Mapping[str, str] | None = None,
          keyring_service: str | None = None, *, staged: Literal[False] = False) -> AppParts: ...


@overload
def build(paths: AppPaths, quit: Callable[[], None], environ: Mapping[str, str] | None = None,
          keyring_service: str | None = None, *, staged: Literal[True]) -> FirstScreen: ...


def build(paths: AppPaths, quit: Callable[[], None], environ: Mapping[str, str] | None = None,
          keyring_service: str | None = None, *, staged: bool = False) -> AppParts | FirstScreen:
    """Open the store, read what the first paint shows, and build the window (not yet shown).

    With ``staged``, stop there and return the :class:`FirstScreen`, whose ``complete()`` builds the controllers
    (``main`` shows and paints the window first); otherwise build them too.
    """
    paths.ensure()
    settings_store = SettingsStore(paths.settings_file)
    settings = settings_store.load()
    if theme.set_appearance(settings.appearance) and isinstance(app := QApplication.instance(), QApplication):
        theme.apply_palette(app)  # the person chose the scheme the system does not have (before anything is built)
    secrets = SecretStore(environ) if keyring_service is None else SecretStore(environ, keyring_service)
    store = Store(paths.database)
    upgrade_failed: MigrationFailedError | None = None
    try:
        moved = store.open_or_recover()
    except MigrationFailedError as exc:  # the file is untouched: open it as it is, read-only
        upgrade_failed, moved = exc, None
        store.open_read_only()
    conversations = store.call_sync(store.list_conversations_sync)
    last = None
    if settings.last_conversation_id not in (None, NEW_CHAT):
        last = store.call_sync(store.get_conversation_sync, settings.last_conversation_id)
    if last is None and conversations and settings.last_conversation_id != NEW_CHAT:
        last = conversations[0]  # (a new chat left at close is shown again, with its draft)
    messages = store.call_sync(store.messages_sync, last.id) if last else []

    notices = NoticeBus()
    endpoint = EndpointController(settings_store, settings, secrets)
    images = ImageStore(paths.images)
    attachments = AttachmentsController(images)
    window = MainWindow(endpoint, attachments, notices)
    draft = DraftStore(store).load_sync(last.id if last else None)
    window.show_stored(last, messages, endpoint.models, conversations, FirstScreenCache(store).load_sync(),
                       draft.text)
    if settings_store.load_problem:
        notices.warning(settings_store.load_problem)
    if upgrade_failed is not None:
        notices.warning(str(upgrade_failed))
    elif store.pre_migration_backup is not None:
        notices.info(f"Your conversation database was upgraded; the earlier one was copied to "
                     f"{store.pre_migration_backup}.")
    recovered = None
    if moved is not None:
        from desktop_assistant.services import backup

        recovered = backup.keep_newest_aside(backup.backup_dir(paths.data))
        if recovered is None:  # else said with the backup to restore, once the window can act on it
            notices.warning(f"Your conversation database could not be read, so it was moved to {moved} (nothing "
                            "was deleted) and a new one was started.")
    if store.interrupted_on_open:
        notices.info("A reply was interrupted when the app last closed; what had arrived is kept.")
    first = FirstScreen(window, paths, quit, secrets, endpoint, store, images, attachments, notices, last, messages,
                        draft, (moved, recovered) if moved is not None and recovered is not None else None)
    return first if staged else first.complete()


async def after_first_paint(parts: AppParts) -> None:
    """The work the first paint must not wait for: keyring, token counting, clean-up, batches to collect.

    The tokenizer is not loaded here: the conversation shown is counted from the counts remembered when it was
    last counted (core/token_counts.py). It loads when a text never counted before is counted, or, with the
    spelling dictionary, at the person's first key or mouse press (:func:`prepare_on_first_input`).
    """
    if parts.drafts is not None:
        try:
            await parts.drafts.bring_back()
        except Exception:  # the rest of the start must not wait on a draft's attachments
            log.exception("the draft's attachments could not be brought back")
    await parts.endpoint.load_key()  # the SDK waits for the first words typed (prepare_connection)
    if parts.recovered is not None:  # (after the key: a keyring notice would take the banner's place)
        offer_recovery(parts, *parts.recovered)
    prepare_on_first_input(parts)
    parts.estimates.enable()
    await parts.store.purge_deleted()
    if parts.store.interrupted:  # replies a crash cut short: what was streamed was billed
        await parts.chat.count_interrupted(parts.store.interrupted)
        parts.store.interrupted = []
    await DraftStore(parts.store).prune()
    start_image_cleanup(parts)
    if parts.token_counts is not None:
        await parts.token_counts.prune()
    await parts.chat.refresh_conversations()
    await parts.usage.refresh()
    parts.data.start_automatic_backups()
    from desktop_assistant.controllers.batches import BatchController  # not needed for the first paint
    from desktop_assistant.controllers.extraction import ExtractionController

    parts.extraction = ExtractionController(parts.store, parts.endpoint, parts.runner, parts.usage)
    parts.batches = BatchController(parts.store, parts.endpoint, parts.runner, parts.usage, parts.extraction)
    extract = parts.window.attach_extraction(parts.extraction, parts.batches)
    if parts.texts is not None:  # Extract's instructions and input, as the last session left them
        extract.keep_with(parts.texts, await parts.texts.kept())
    await parts.extraction.load_schemas()
    from desktop_assistant.controllers.lab import LabController  # not needed for the first paint
    parts.lab = LabController(parts.store, parts.endpoint, parts.runner, parts.usage, parts.chat, parts.extraction)
    parts.window.attach_lab(parts.lab, parts.texts)
    if not parts.endpoint.needs_onboarding:
        await parts.batches.resume()
        await parts.lab.batches.resume()
        parts.search.top_up()  # messages written since the last run, if search by meaning is on
    keep_out_of_full_collections()  # what start-up built stays: full collections need not walk it again


IMAGE_CLEANUP = "image clean-up"


def start_image_cleanup(parts: AppParts) -> None:
    """Delete, on a worker thread, the stored images nothing refers to any more (those of conversations just
    purged and of drafts just pruned among them); the rest of the start does not wait for it."""
    from desktop_assistant.services.image_cleanup import clean_up_images  # not needed for the first paint

    parts.runner.start_unless_closing(IMAGE_CLEANUP, clean_up_images(parts.store, parts.attachments.images),
                                      key=IMAGE_CLEANUP)


def offer_recovery(parts: AppParts, moved: Path, backup: BackupInfo) -> None:
    """The database could not be read and a new one was started: offer the newest automatic backup back."""
    import time

    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(backup.newest_activity or backup.written_at))
    text = (f"Your conversation database could not be read, so it was moved to {moved} (nothing was deleted) and "
            f"a new one was started. The automatic backup of {when} holds {backup.conversations} conversations: "
            "Restore it to bring them back.")
    def restore() -> None:
        parts.data.restore(backup.path)

    parts.window.banner.show_offer(text, "Restore it", restore)


def prepare_on_first_input(parts: AppParts) -> None:
    """At the person's first key press, mouse press or wheel turn, load what writing needs, on worker threads:
    the tokenizer of the model in use (~50 MB) and the spelling dictionary (~9 MB).

    Building the tokenizer holds the GIL ~0.1-0.2 s (tiktoken builds its Rust encoder without releasing it):
    begun at a click it is usually done before the first words are counted, where it would stall typing once.
    A window left alone never pays for either.
    """
    import asyncio  # running, so loaded: not imported before the first paint

    from desktop_assistant.core.catalog import lookup
    from desktop_assistant.core.tokens import encoding_for, is_loaded
    from desktop_assistant.ui.first_input import FirstInput

    app = QApplication.instance()
    if app is None:
        return
    watch = FirstInput(app, parts.window)

    async def prepare() -> None:
        # one after the other: two loads competing for the GIL with the UI thread stall it more than either alone
        if not is_loaded(lookup(parts.chat.model).encoding):
            await asyncio.to_thread(encoding_for, parts.chat.model)
        await enable_spelling(parts)

    def begin() -> None:
        if not parts.runner.closing:
            parts.runner.start("prepare writing", prepare())

    watch.happened.connect(begin)


SPELL_LATER_CHARS = 50_000
"""A draft longer than this when the dictionary arrives (a long text pasted as the first input) is not checked
at once: checking it all is a stall of ~0.1-0.4 s. Spelling starts when the draft is shorter (sent, cut)."""


async def enable_spelling(parts: AppParts) -> None:
    """Load the dictionary for the system's language off the UI thread and underline misspelled words."""
    import asyncio

    from desktop_assistant.core.spelling import load_dictionary  # not needed for the first paint
    from desktop_assistant.ui.chat.spelling import read_words

    words_file = parts.paths.config / "words.txt"
    dictionary = await asyncio.to_thread(load_dictionary, QLocale.system().name(), read_words(words_file))
    composer = parts.window.composer

    def turn_on() -> None:
        if problem := composer.enable_spelling(words_file, dictionary):
            parts.notices.info(problem)

    if len(composer.text) <= SPELL_LATER_CHARS:
        turn_on()
        return

    def when_shorter(text: str) -> None:
        if len(text) <= SPELL_LATER_CHARS:
            composer.draftChanged.disconnect(when_shorter)
            turn_on()

    composer.draftChanged.connect(when_shorter)


def collect_from_now() -> None:
    """End what :mod:`desktop_assistant.launch` set up for the start: turn the garbage collector back on, after
    moving what the start built (it lives as long as the app) out of its reach, and make enums the stock way."""
    _enum_start.uninstall()
    if not gc.isenabled():
        keep_out_of_full_collections()
        gc.enable()


def _refuse_to_start(app: QApplication, message: str) -> int:
    """Show why the app cannot start (a database from a newer version) until the person closes it."""
    collect_from_now()
    label = QLabel(message)
    label.setWordWrap(True)
    label.setMargin(24)
    label.setWindowTitle(APP_NAME)
    label.resize(520, 160)
    label.show()
    from desktop_assistant.controllers.event_loop import make_event_loop

    loop = make_event_loop(app)
    app.lastWindowClosed.connect(loop.stop)
    with loop:
        loop.run_forever()
    return 1


class RedactingFilter(logging.Filter):
    """Masks anything shaped like an API key in every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with keys masked; never drops a record."""
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=APP_ID, description=f"{APP_NAME}: a desktop window onto the OpenAI API.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--smoke-test", metavar="QUESTION",
                        help="start, ask QUESTION, print the reply as JSON and quit (for checking an install)")
    args, _qt_args = parser.parse_known_args(argv[1:])
    return args


def make_application(argv: list[str]) -> QApplication:
    """The application object, named, with the Fusion style (a ``-style`` in ``argv`` is overridden). Its icon,
    drawn from SVG in seven sizes (~4 ms), is set once the window is painted."""
    app = QApplication([*argv, *theme.STYLE_ARGUMENTS])
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    return app


def main(argv: list[str] | None = None) -> int:
    """Start the app; returns the process exit code."""
    argv = list(sys.argv if argv is None else argv)
    args = _parse_args(argv)
    logging.basicConfig(level=os.environ.get("DA_LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    app = make_application(argv)
    theme.apply_palette(app)
    window: MainWindow | None = None

    def follow_system_scheme() -> None:
        if theme.follows_system():
            if window is not None:
                window.follow_scheme()
            else:
                theme.apply(app)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: follow_system_scheme())
    paths = AppPaths.default()
    guard = InstanceGuard(paths.data)
    if not guard.claim():
        message = f"{APP_NAME} is already running; its window was brought to the front."
        print(json.dumps({"ok": False, "error": message}) if args.smoke_test else message, flush=True)
        return 0 if not args.smoke_test else 3
    try:
        first = build(paths, quit=app.quit, staged=True)
    except NewerDatabaseError as exc:
        theme.apply_style_sheet(app, theme.colors())
        app.setWindowIcon(icons.app_icon())
        return _refuse_to_start(app, str(exc))
    theme.apply_style_sheet(app, theme.colors())  # once the window is built: see apply_style_sheet
    window = first.window
    first.window.show()
    # paint now: the controllers and what they import come right after, and input waits for them
    app.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    collect_from_now()
    app.setWindowIcon(icons.app_icon())
    parts = first.complete()
    guard.listen()
    guard.raiseRequested.connect(parts.window.bring_to_front)
    parts.lifecycle.closed.connect(guard.release)
    from desktop_assistant.controllers.lifecycle import close_on_terminate

    close_on_terminate(parts.window.close, parts.window)
    import asyncio

    from desktop_assistant.controllers.event_loop import make_event_loop

    loop = make_event_loop(app)
    asyncio.set_event_loop(loop)
    install_exception_hooks(parts.notices, loop)
    exit_code = 0
    if args.smoke_test:
        async def smoke() -> None:
            nonlocal exit_code
            exit_code = 1
            from desktop_assistant.smoke import run as run_smoke_test

            try:
                await after_first_paint(parts)
                # what the person's first key press starts (nobody presses one here): a packaged build proves that
                # its spelling dictionary loads as well as its tokenizer
                await enable_spelling(parts)
                exit_code = await run_smoke_test(parts, args.smoke_test)
            finally:
                parts.window.close()
        QTimer.singleShot(0, lambda: parts.runner.start("smoke test", smoke()))
    else:
        QTimer.singleShot(0, lambda: parts.runner.start("start-up", after_first_paint(parts)))
    with loop:
        loop.run_forever()
    return exit_code
