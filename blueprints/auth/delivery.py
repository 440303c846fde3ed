"""How one-time codes reach people: email over SMTP, SMS over an HTTP gateway.

The ``console`` backends print the message to the log for development; a production
configuration refuses to start with them (see ``app._check_production``).
"""
import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

import requests
from flask import current_app

log = logging.getLogger("parta.delivery")


class DeliveryError(Exception):
    """The message could not be handed to the mail server or the SMS gateway."""


def send_email(to, subject, body):
    config = current_app.config
    if config["MAIL_BACKEND"] == "console":
        log.warning("email to %s: %s\n%s", to, subject, body)
        return
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="parta")
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if config["SMTP_SSL"] else smtplib.SMTP
    try:
        with smtp_class(config["SMTP_HOST"], config["SMTP_PORT"], timeout=15) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config["SMTP_USER"]:
                smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.error("email to %s failed: %s", to, error)
        raise DeliveryError(str(error)) from error


def send_sms(to, text):
    """POST ``{"to": "+7…", "text": "…"}`` to SMS_GATEWAY_URL (bearer SMS_GATEWAY_TOKEN)."""
    config = current_app.config
    if config["SMS_BACKEND"] == "console":
        log.warning("sms to %s: %s", to, text)
        return
    headers = {}
    if config["SMS_GATEWAY_TOKEN"]:
        headers["Authorization"] = f"Bearer {config['SMS_GATEWAY_TOKEN']}"
    try:
        response = requests.post(
            config["SMS_GATEWAY_URL"], json={"to": to, "text": text}, headers=headers, timeout=15
        )
        response.raise_for_status()
    except requests.RequestException as error:
        log.error("sms to %s failed: %s", to, error)
        raise DeliveryError(str(error)) from error
