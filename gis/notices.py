"""The mails the service sends, as (subject, body); gis/mail.py hands them over.

A mail goes to an address, not to a browser with a language, so each is written in Ukrainian
and, below a rule, in English: its paragraphs are marked Ukrainian texts here, their English
is gis/locale/en/mail.po (gis/texts.py). What the mails carry that is not ours to translate
(a name, a reason an official typed, 1551's result) goes in as a placeholder's value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gis.texts import N_, tr

BRAND = "Hromada GIS"


def compose(
    subject: str,
    paragraphs: Sequence[str],
    params: Mapping[str, object],
    en_params: Mapping[str, object] | None = None,
    *,
    lang: str | None = None,
) -> tuple[str, str]:
    """(subject, body): the subject in both languages; the body's paragraphs in Ukrainian,
    then a rule, then in English. `en_params` overrides values for the English part.
    With `lang` ('uk' or 'en': a recipient whose language is known, gis/notify.py) the
    subject and the body are in that language only."""
    en = {**params, **(en_params or {})}
    if lang is not None:
        values = en if lang == "en" else params
        one_body = "\n\n".join(tr(p, lang, **values) for p in paragraphs)
        return f"{tr(subject, lang, **values)} — {BRAND}", f"{one_body}\n"
    uk_body = "\n\n".join(tr(p, "uk", **params) for p in paragraphs)
    en_body = "\n\n".join(tr(p, "en", **en) for p in paragraphs)
    subject_line = f"{tr(subject, 'uk', **params)} / {tr(subject, 'en', **en)} — {BRAND}"
    return subject_line, f"{uk_body}\n\n---\n{en_body}\n"


# --- accounts (api/routers/auth.py) ----------------------------------------------------------


def confirmation_mail(name: str, link: str, hours: int) -> tuple[str, str]:
    return compose(
        N_("Підтвердіть адресу"),
        [
            N_("Вітаємо, {name}!"),
            N_("Щоб завершити реєстрацію, відкрийте посилання (діє {hours} год):\n{link}"),
            N_("Якщо ви не реєструвалися, просто проігноруйте цей лист."),
        ],
        {"name": name, "link": link, "hours": hours},
    )


def already_registered_mail(link: str) -> tuple[str, str]:
    return compose(
        N_("Спроба реєстрації"),
        [
            N_(
                "Хтось (можливо, ви) намагався зареєструватися з цією адресою, але обліковий "
                "запис з нею вже існує. Якщо ви забули пароль, відновіть його тут:\n{link}"
            ),
            N_("Якщо це були не ви, нічого робити не потрібно."),
        ],
        {"link": link},
    )


def reset_mail(link: str, minutes: int) -> tuple[str, str]:
    return compose(
        N_("Відновлення пароля"),
        [
            N_("Щоб задати новий пароль, відкрийте посилання (діє {minutes} хв):\n{link}"),
            N_(
                "Після зміни пароля всі ваші сеанси буде завершено. Якщо ви не просили "
                "відновити пароль, проігноруйте цей лист: пароль лишиться незмінним."
            ),
        ],
        {"link": link, "minutes": minutes},
    )


# --- appeals (gis/lifecycle.py) --------------------------------------------------------------

_SEE_APPEAL = N_("Звернення на сайті: {link}")


def redirected_mail(number: str, executor: str, reason: str, link: str,
                    lang: str | None = None) -> tuple[str, str]:  # fmt: skip
    """To the author: where the appeal went and why (art. 7 of the law)."""
    return compose(
        N_("Звернення № {number} передано за належністю"),
        [
            N_(
                "Ваше звернення № {number} передано за належністю: {executor} (ст. 7 Закону "
                "України «Про звернення громадян»).\nПричина: {reason}"
            ),
            _SEE_APPEAL,
        ],
        {"number": number, "executor": executor, "reason": reason, "link": link},
        lang=lang,
    )


def extended_mail(number: str, until: str, reason: str, link: str,
                  lang: str | None = None) -> tuple[str, str]:  # fmt: skip
    """To the author: the term is extended (art. 20 of the law)."""
    return compose(
        N_("Звернення № {number}: строк розгляду продовжено"),
        [
            N_(
                "Строк розгляду вашого звернення № {number} продовжено до {until} (ст. 20 "
                "Закону України «Про звернення громадян»).\nПричина: {reason}"
            ),
            _SEE_APPEAL,
        ],
        {"number": number, "until": until, "reason": reason, "link": link},
        lang=lang,
    )


def closed_mail(number: str, result: str, result_en: str | None, link: str,
                lang: str | None = None) -> tuple[str, str]:  # fmt: skip
    """To a supporter: the appeal they supported is closed, with 1551's result."""
    return compose(
        N_("Звернення № {number} закрито"),
        [N_("Звернення № {number}, яке ви підтримали, закрито: {result}."), _SEE_APPEAL],
        {"number": number, "result": result, "link": link},
        {"result": result_en or result},
        lang=lang,
    )


# --- the author's notifications (gis/notify.py), in the author's language -------------------

_CARD = N_("Картка звернення: {link}")
UNSUBSCRIBE = N_("Не отримувати більше сповіщень про це звернення: {link}")


def unsubscribe_line(link: str, lang: str | None) -> str:
    """The last paragraph of an author's notification (gis/notify.py adds it to each)."""
    return tr(UNSUBSCRIBE, lang or "uk", link=link)


def registered_mail(number: str, deadline: str, links: Mapping[str, str],
                    lang: str | None = None) -> tuple[str, str]:  # fmt: skip
    """To the author: the appeal is registered, its number and the term (art. 20)."""
    return compose(
        N_("Звернення № {number} зареєстровано"),
        [
            N_(
                "Ваше звернення зареєстровано за № {number}. Строк розгляду — до {deadline} "
                "(ст. 20 Закону України «Про звернення громадян»)."
            ),
            _CARD,
        ],
        {"number": number, "deadline": deadline, "link": links["card"]},
        lang=lang,
    )  # fmt: skip


def answered_mail(number: str, answer: str, closes_on: str | None, links: Mapping[str, str],
                  lang: str | None = None) -> tuple[str, str]:  # fmt: skip
    """To the author: the executor's answer, where to see its photos, how to confirm or
    reject it, and the day it closes by itself when they do neither (`closes_on`: an answer
    'done' awaits the author; the others a curator's check)."""
    closing = [N_("Якщо ви не підтвердите і не відхилите відповідь, звернення закриється "
                  "автоматично {closes_on}.")] if closes_on else []  # fmt: skip
    return compose(
        N_("Звернення № {number}: надійшла відповідь"),
        [
            N_("Виконавець відповів на ваше звернення № {number}:\n{answer}"),
            N_("Відповідь і фото до неї: {link}"),
            N_("Підтвердити виконання: {confirm}\nНе підтвердити (повернути на доопрацювання): "
               "{reject}"),
            *closing,
        ],
        {"number": number, "answer": answer, "closes_on": closes_on, "link": links["card"],
         "confirm": links["confirm"], "reject": links["reject"]},
        lang=lang,
    )  # fmt: skip


def rework_mail(number: str, links: Mapping[str, str],
                lang: str | None = None) -> tuple[str, str]:  # fmt: skip
    """To the author: the answer is sent back to the executor for rework."""
    return compose(
        N_("Звернення № {number} повернуто на доопрацювання"),
        [
            N_("Відповідь на ваше звернення № {number} повернуто виконавцю на доопрацювання."),
            _CARD,
        ],
        {"number": number, "link": links["card"]},
        lang=lang,
    )


def author_closed_mail(number: str, result: str, result_en: str | None,
                       links: Mapping[str, str], lang: str | None = None) -> tuple[str, str]:  # fmt: skip
    """To the author: the appeal is closed, with 1551's result."""
    return compose(
        N_("Звернення № {number} закрито"),
        [N_("Ваше звернення № {number} закрито: {result}."), _CARD],
        {"number": number, "result": result, "link": links["card"]},
        {"result": result_en or result},
        lang=lang,
    )  # fmt: skip
