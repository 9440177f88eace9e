"""E-mail over SMTP (standard library smtplib), rendered from the files in ``templates/``."""
