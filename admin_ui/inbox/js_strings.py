"""The words the inbox's scripts (admin_ui/static/inbox/*.js) write themselves, in the
viewer's language.

The page hands them over as JSON in ``<script type="application/json"
id="inbox-strings">`` (a data block: nothing runs, so the strict CSP holds), and
``strings.js`` looks them up: ``t(key, params)`` fills ``%(name)s`` placeholders as
Python does, ``tn(key, n, params)`` picks the plural form for ``n``. The ``_()`` marks
here are what `make messages` extracts; the scripts hold only the keys.

A plural is sent as one form per CLDR plural category of the language (``one``,
``other``, and ``few``/``many``… where a language has them), each the catalog's form
for a number of that category, so the script's ``Intl.PluralRules`` picks the right one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from babel import Locale

from admin_ui.i18n import current, ngettext
from admin_ui.i18n import gettext as _

Strings = dict[str, str | dict[str, str]]


def js_strings() -> Strings:
    """Every string the inbox's scripts show, keyed as they ask for it."""
    return {
        # app.js: the socket banner
        "socket.reconnecting": _(
            "Connection lost. Reconnecting… what happens meanwhile will show when it is back."
        ),
        "socket.offline": _("You are offline. The inbox catches up when the network is back."),
        # days.js, list.js
        "days.today": _("Today"),
        "days.yesterday": _("Yesterday"),
        "list.just_now": _("just now"),
        # topbar.js
        "topbar.available": _("Available"),
        "topbar.away": _("Away"),
        # thread.js
        "thread.title": _("%(name)s · Inbox · Inbox Hub"),
        "thread.conversation": _("Conversation"),
        "thread.link_copied": _("Link copied"),
        "thread.copy_link": _("Copy link"),
        "thread.copy_prompt": _("Copy this link"),
        # thread_search.js
        "thread_search.matches": _plural(lambda n: ngettext("%(num)s match", "%(num)s matches", n)),
        # typing.js
        "typing.one": _("%(name)s is typing…"),
        "typing.two": _("%(first)s and %(second)s are typing…"),
        "typing.many": _plural(
            lambda n: ngettext("%(num)s person is typing…", "%(num)s people are typing…", n)
        ),
        "typing.someone": _("Someone"),
        # actions.js, bulk.js: dialogs
        "dialog.pick_time": _("Pick a date and time, or one of the presets."),
        "dialog.choose_priority": _("Choose a priority."),
        "dialog.choose_macro": _("Choose a macro."),
        "dialog.tick_label": _("Tick at least one label."),
        "dialog.closing_note_required": _("Write a closing note: this workspace asks for one."),
        "labels.added": _("Added %(name)s"),
        "labels.removed": _("Removed %(name)s"),
        # bulk.js
        "bulk.selected": _plural(lambda n: ngettext("%(num)s selected", "%(num)s selected", n)),
        "bulk.all_matching_count": _plural(
            lambda n: ngettext("The %(num)s matching selected", "All %(num)s matching selected", n)
        ),
        "bulk.all_matching": _("All matching selected"),
        "bulk.conversations": _plural(
            lambda n: ngettext("%(num)s conversation", "%(num)s conversations", n)
        ),
        "bulk.all_matching_conversations": _plural(
            lambda n: ngettext(
                "the %(num)s matching conversation", "all %(num)s matching conversations", n
            )
        ),
        "bulk.every_matching": _("every matching conversation"),
        "bulk.stopped": _("Stopped: %(error)s."),
        "bulk.priority_removed": _("(priority taken away)"),
        "bulk.priority_as": _("as %(name)s"),
        "bulk.macro_title": _("Macro “%(name)s”"),
        # command_bar.js
        "command.group.conversation": _("Conversation"),
        "command.group.macro": _("Macro"),
        "command.group.inbox": _("Inbox"),
        "command.group.label": _("Label"),
        "command.group.priority": _("Priority"),
        "command.group.sla": _("SLA"),
        "command.group.contact": _("Contact"),
        "command.on": _("%(action)s — %(name)s"),
        "command.run_macro": _("Run macro: %(macro)s — %(name)s"),
        "command.go_to": _("Go to %(name)s"),
        "command.add_label": _("Add label %(label)s — %(name)s"),
        "command.remove_label": _("Remove label %(label)s — %(name)s"),
        "command.set_priority": _("Set priority to %(priority)s — %(name)s"),
        "command.apply_sla": _("Apply SLA policy %(policy)s — %(name)s"),
        "command.remove_sla": _("Remove the SLA policy — %(name)s"),
        "command.open_contact": _("Open %(name)s"),
        "command.contact": _("contact"),
        "command.nothing": _("Nothing matches."),
        "command.no_conversation": _("This contact has no conversation you can see."),
        "priority.urgent": _("Urgent"),
        "priority.high": _("High"),
        "priority.medium": _("Medium"),
        "priority.low": _("Low"),
        "priority.none": _("No priority"),
        # composer.js, attachments.js, pickers.js, templates.js
        "composer.placeholder_comment": _("Write an internal comment… (@ mentions)"),
        "composer.placeholder_reply": _("Write a reply… (/ snippets, $ variables)"),
        "composer.wait_uploads": _("Wait until the files have finished uploading."),
        "composer.a_message": _("a message"),
        "composer.cc_error": _("Cc: %(message)s"),
        "files.bytes": _plural(lambda n: ngettext("%(num)s byte", "%(num)s bytes", n)),
        "files.type_refused": _(
            "%(file)s: this type of file cannot be sent (allowed: %(allowed)s)."
        ),
        "files.empty": _("%(file)s is empty."),
        "files.too_big": _("%(file)s is %(size)s: files may be at most %(max)s."),
        "files.none": _("%(channel)s cannot send files."),
        "files.kind_refused": _("%(channel)s cannot send %(kind)s files like %(file)s."),
        "files.kind_too_big": _(
            "%(file)s is %(size)s: %(channel)s accepts %(kind)s files up to %(max)s."
        ),
        "files.too_many": _plural(
            lambda n: ngettext(
                "%(file)s: at most %(num)s file a message.",
                "%(file)s: at most %(num)s files a message.",
                n,
            )
        ),
        "files.upload_failed": _("the upload failed (%(status)s)"),
        "files.kind.image": _("image"),
        "files.kind.audio": _("audio"),
        "files.kind.video": _("video"),
        "files.kind.document": _("document"),
        "pickers.files": _plural(lambda n: ngettext("%(num)s file", "%(num)s files", n)),
        "pickers.no_snippet": _("No snippet matches."),
        "pickers.no_variable": _("No variable matches."),
        "pickers.no_one": _("No one matches."),
        "templates.failed": _("The templates could not be loaded: %(error)s"),
        "templates.choose": _("Choose a template: the window is closed."),
        "templates.fill_in": _("Fill in %(field)s."),
        "templates.every_parameter": _("every parameter"),
        "templates.loading": _("Loading templates…"),
        # contact.js
        "contact.field_name": _("Give the field a name of letters, digits and _ only."),
        "contact.this_contact": _("this contact"),
        # crm.js
        "crm.empty": _("(empty)"),
        "crm.the_crm": _("the CRM"),
        "crm.changed": _(
            "%(field)s was changed in %(crm)s meanwhile. Yours: %(mine)s · %(crm)s now: %(theirs)s."
        ),
        "crm.keep_mine": _("Keep mine"),
        "crm.use_theirs": _("Use %(crm)s's"),
        "crm.kept_theirs": _("%(field)s: kept %(crm)s's value."),
        "crm.saved": _("%(field)s saved: %(value)s."),
        "crm.copied": _("Copied"),
        # custom_inboxes.js, macros.js, email.js
        "custom.delete_confirm": _(
            "Delete the custom inbox “%(name)s”? Those it is shared with lose it too."
        ),
        "macros.shared": _("Shared"),
        "macros.yours": _("Yours"),
        "email.frame_title": _("The email, with its remote images"),
        # new_conversation.js
        "new.unknown_contact": _("Unknown contact"),
        "new.no_channel": _("This contact has no channel to write to."),
        "new.template_only": _("%(channel)s lets you write first only with an approved template."),
        "new.this_channel": _("This channel"),
        "new.contact_needs": _("Give the new contact a name, phone or email."),
        "new.choose": _("Choose a contact and a channel."),
        "new.write": _("Write a message."),
        "new.address": _("Write the contact's address on this channel."),
        # notifications.js: the desktop notification's title
        "notify.message": _("New message"),
        "notify.mention": _("You were mentioned"),
        "notify.assigned": _("A conversation was assigned to you"),
        "notify.snooze_ended": _("⏰ Snooze ended"),
        "notify.sla_breached": _("⚠ SLA breached"),
        # dom.js
        "dom.hub_answered": _("the hub answered %(status)s"),
    }


def _plural(form: Callable[[int], str]) -> dict[str, str]:
    """The catalog's form (``form(n)``: an ``ngettext`` call, so that `make messages`
    finds both words) for each plural category of the current language, keyed by the
    category's CLDR name (what ``Intl.PluralRules.select`` answers)."""
    return {category: form(sample) for category, sample in _samples(current().locale).items()}


@cache
def _samples(locale: Locale) -> dict[str, int]:
    """A number of each plural category the language has (``{"one": 1, "other": 0}``
    in English), so each category gets the gettext form of a number it holds."""
    found: dict[str, int] = {}
    for n in range(0, 1000):
        found.setdefault(str(locale.plural_form(n)), n)
    return found
