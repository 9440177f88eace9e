"""How sign-up, sign-in and password reset are throttled, before any password is hashed or verified.

The rule (``AuthLimits`` holds the numbers; the settings ``auth_*`` set them):

- Every attempt is counted before its password is hashed or verified, each count one atomic step of
  the ``RateLimiter``: concurrent attempts cannot all pass a check made before any of them is counted.
- Per client address, each kind (sign-in, sign-up, reset) has a fixed-window limit, generous because
  shoppers share NAT addresses. Past it: refused until the window ends.
- Per account and client address, sign-in attempts are throttled progressively: ``free_attempts`` pass,
  then each next one waits twice as long as the one before (``first_delay_seconds`` up to
  ``max_delay_seconds``, the short block). An address hammering an account slows only itself; the
  owner elsewhere is never shut out. A successful sign-in clears its address's count.
- Addresses the account has never signed in from also share an account-wide throttle
  (``account_free_attempts``, the same delays), so guesses spread over many addresses slow down too.
  An address the account signed in from within ``known_address_days`` skips it: during such an attack
  the owner still gets in from home, and only a device on a new address waits.
- Sign-up is throttled per e-mail (every address together) the same way, so a flood of sign-ups with
  a taken e-mail hashes only a few passwords.
- Password reset requests are counted per client address (refused past the limit) and per account,
  every address together: ``resets_per_account`` reset e-mails per ``reset_window_seconds``. Past the
  account's allowance a request is answered as every other one and sends nothing, so the answer never
  tells whether the e-mail has an account; the count is taken for every well-formed e-mail, known or
  not. A reset's new password is hashed only for a valid one-time token, so per account the tokens
  this allowance issues also bound the hashes; confirmations are counted per client address.

A refusal raises ``TooManyAttempts`` with the seconds to wait (a 429 with ``Retry-After``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from application.customers.errors import TooManyAttempts
from application.ports.rate_limit import RateDecision, RateLimiter, Throttle


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthLimits:
    sign_ins_per_ip: int = 100
    sign_ups_per_ip: int = 20
    resets_per_ip: int = 20
    ip_window_seconds: int = 300
    resets_per_account: int = 3  # reset e-mails to one account (every client address together) per window
    reset_window_seconds: int = 3600
    free_attempts: int = 5
    account_free_attempts: int = 20
    first_delay_seconds: int = 30
    max_delay_seconds: int = 900
    window_seconds: int = 3600  # a throttle forgets an account or address this long after its last attempt
    known_address_days: int = 30

    def throttle(self, free: int) -> Throttle:
        return Throttle(free=free, first_delay_seconds=self.first_delay_seconds,
                        max_delay_seconds=self.max_delay_seconds, window_seconds=self.window_seconds)


def account_key(email: str) -> str:
    """The account's name in rate-limit keys: a digest, so Redis never holds e-mail addresses."""
    return hashlib.sha256(email.encode()).hexdigest()


def _refuse_unless(decision: RateDecision, what: str) -> None:
    if not decision.allowed:
        raise TooManyAttempts(decision.retry_after, what=what)


async def _per_ip(limiter: RateLimiter, kind: str, client_ip: str, limit: int, window: int) -> None:
    if client_ip:  # internal callers (seeding, tests) name no address: only the account limits apply
        _refuse_unless(await limiter.hit(f"{kind}:ip:{client_ip}", limit=limit, window_seconds=window), kind)


def _known(account: str, client_ip: str) -> str:
    return f"signin:known:{account}:{client_ip}"


async def admit_sign_in(limiter: RateLimiter, limits: AuthLimits, *, email: str, client_ip: str) -> None:
    """Count a sign-in attempt under every limit that applies, or raise ``TooManyAttempts``."""
    await _per_ip(limiter, "sign-in", client_ip, limits.sign_ins_per_ip, limits.ip_window_seconds)
    account = account_key(email)
    per_address = limits.throttle(limits.free_attempts)
    _refuse_unless(await limiter.throttle(f"signin:account:{account}:ip:{client_ip}", policy=per_address), "sign-in")
    # check(limit=1) refuses once the key was hit at least once: this address has signed in before.
    known = not (await limiter.check(_known(account, client_ip), limit=1,
                                     window_seconds=limits.known_address_days * 86400)).allowed
    if not known:
        account_wide = limits.throttle(limits.account_free_attempts)
        _refuse_unless(await limiter.throttle(f"signin:account:{account}", policy=account_wide), "sign-in")


async def signed_in(limiter: RateLimiter, limits: AuthLimits, *, email: str, client_ip: str) -> None:
    """The password was right: the address's count starts over, and the address is known for a while."""
    account = account_key(email)
    await limiter.clear(f"signin:account:{account}:ip:{client_ip}")
    await limiter.clear(_known(account, client_ip))  # known for the full period from this sign-in
    await limiter.hit(_known(account, client_ip), limit=1, window_seconds=limits.known_address_days * 86400)


async def admit_sign_up(limiter: RateLimiter, limits: AuthLimits, *, email: str, client_ip: str) -> None:
    await _per_ip(limiter, "sign-up", client_ip, limits.sign_ups_per_ip, limits.ip_window_seconds)
    per_email = limits.throttle(limits.free_attempts)
    _refuse_unless(await limiter.throttle(f"signup:account:{account_key(email)}", policy=per_email), "sign-up")


async def admit_reset(limiter: RateLimiter, limits: AuthLimits, *, client_ip: str) -> None:
    """Requests and confirmations of password resets, per client address."""
    await _per_ip(limiter, "reset", client_ip, limits.resets_per_ip, limits.ip_window_seconds)


async def reset_email_allowed(limiter: RateLimiter, limits: AuthLimits, *, email: str) -> bool:
    """Count a reset request for ``email``'s account: whether it may be sent another reset e-mail now
    (``False``: answer as usual and send nothing)."""
    decision = await limiter.hit(f"reset:account:{account_key(email)}", limit=limits.resets_per_account,
                                 window_seconds=limits.reset_window_seconds)
    return decision.allowed
