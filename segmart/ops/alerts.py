"""Notifications through apprise (``SEGMART_ALERT_URLS``; ``SEGMART_ALERT_ON=failure|always``).

A notification that cannot be delivered is logged and never changes the
build's result. The URLs carry tokens and passwords, so they are never logged:
only their scheme is.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("segmart")


def scheme(url: str) -> str:
    return url.split("://", 1)[0] + "://…" if "://" in url else "(not a URL)"


def should_send(alert_on: str, failed: bool) -> bool:
    return failed or alert_on == "always"


def send(urls: tuple[str, ...], *, title: str, body: str, failed: bool, attachment: Path | None) -> bool:
    """Send to every URL; True when all accepted it. Never raises for delivery problems."""
    if not urls:
        return True
    try:
        import apprise
    except ImportError:
        log.error("alerts are configured but apprise is not installed (pip install -r requirements.txt)")
        return False
    delivered = True
    for url in urls:
        target = apprise.Apprise()
        if not target.add(url):
            log.error("alert target %s is not a valid apprise URL; nothing sent to it", scheme(url))
            delivered = False
            continue
        try:
            ok = target.notify(
                title=title,
                body=body,
                notify_type=apprise.NotifyType.FAILURE if failed else apprise.NotifyType.SUCCESS,
                attach=str(attachment) if attachment is not None and attachment.is_file() else None,
            )
        except Exception as exc:  # a plugin failure must not fail the build
            log.error("alert to %s failed: %s", scheme(url), type(exc).__name__)
            ok = False
        if ok:
            log.info("alert sent to %s", scheme(url))
        else:
            log.error("alert to %s could not be delivered (the build result is unchanged)", scheme(url))
            delivered = False
    return delivered
