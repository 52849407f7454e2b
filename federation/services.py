"""Every write of the structure domain: customers, projects, role grants, tokens."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from common.exceptions import Conflict, PermissionDenied, TooManyAttempts, ValidationFailed
from common.login_security import LOCKED_OUT_MESSAGE, lockout_seconds_left
from common.updates import update_fields
from events.models import Event
from events.services import event_build, events_insert

from . import hooks, token_cache
from .models import OECD_FOS_2007_CODES, AuthToken, Customer, Project, Role, RoleGrant, User
from .models.roles import CUSTOMER_ROLES, PROJECT_ROLES
from .models.tokens import hash_token_key, password_fingerprint
from .notification_kinds import check_settings
from .permissions import can_grant, can_manage_customer, can_manage_project, is_operator, may_write

CUSTOMER_FIELDS = ("name", "native_name", "abbreviation", "contact_details", "email", "phone_number", "backend_id")
PROJECT_UPDATE_FIELDS = ("name", "description", "backend_id", "end_date", "oecd_fos_2007_code")
TOKEN_LAST_USED_PRECISION = timedelta(minutes=1)


def unique_slug(model, base: str, *, max_length: int = 50, **scope) -> str:
    """A slug of `base` not yet used by `model` within `scope` (adds -2, -3, ... when taken)."""
    root = (slugify(base) or "x")[:max_length].strip("-") or "x"
    slug, n = root, 1
    while model.objects.filter(slug=slug, **scope).exists():
        n += 1
        suffix = f"-{n}"
        slug = root[: max_length - len(suffix)] + suffix
    return slug


def _clean_text(value) -> str:
    return "" if value is None else str(value).strip()


# --- customers ---------------------------------------------------------------------------------


def customer_create(*, actor: User, name: str, **fields) -> Customer:
    """Only staff create customers."""
    if not is_operator(actor):
        raise PermissionDenied("Only staff may create customers.")
    name = _clean_text(name)
    if not name:
        raise ValidationFailed("This field may not be blank.", field="name")
    values = {key: _clean_text(fields.get(key)) for key in CUSTOMER_FIELDS if key != "name"}
    return Customer.objects.create(name=name, slug=unique_slug(Customer, name), **values)


def customer_update(*, actor: User, customer: Customer, **fields) -> Customer:
    if not can_manage_customer(actor, customer):
        raise PermissionDenied("Only the customer's owners and staff may change it.")
    changes = {key: _clean_text(value) for key, value in fields.items() if key in CUSTOMER_FIELDS}
    if "name" in changes and not changes["name"]:
        raise ValidationFailed("This field may not be blank.", field="name")
    update_fields(customer, **changes)
    return customer


def customer_delete(*, actor: User, customer: Customer) -> None:
    """Staff delete customers that nothing refers to any more: no projects, offerings or providers."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff may delete customers.")
    if customer.projects.exists():
        raise Conflict("The customer still has projects; delete them first.")
    try:
        with transaction.atomic():
            customer.delete()
    except ProtectedError as exc:  # other apps' rows (offerings, providers) refer to it
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
        raise Conflict(f"The customer still has {' and '.join(kinds)}; it cannot be deleted.") from None


# --- projects ----------------------------------------------------------------------------------


def _check_fos_code(code) -> str:
    code = _clean_text(code)
    if code and code not in OECD_FOS_2007_CODES:
        raise ValidationFailed(
            f'"{code}" is not an OECD Fields of Science 2007 code (such as "1.1").', field="oecd_fos_2007_code"
        )
    return code


def _check_backend_id_free(customer: Customer, backend_id: str, *, exclude_id: int | None = None) -> None:
    if not backend_id:
        return
    clash = Project.objects.filter(customer=customer, backend_id=backend_id).exclude(id=exclude_id)
    if clash.exists():
        raise ValidationFailed("A project with this backend_id already exists in this customer.", field="backend_id")


def project_create(
    *,
    actor: User,
    customer: Customer,
    name: str,
    description: str = "",
    end_date: date | None = None,
    backend_id: str = "",
    oecd_fos_2007_code: str = "",
) -> Project:
    """Customer owners and staff create projects; a project is active on creation."""
    if not can_manage_customer(actor, customer):
        raise PermissionDenied("Only the customer's owners and staff may create projects in it.")
    name = _clean_text(name)
    if not name:
        raise ValidationFailed("This field may not be blank.", field="name")
    backend_id = _clean_text(backend_id)
    _check_backend_id_free(customer, backend_id)
    try:
        with transaction.atomic():
            project = Project.objects.create(
                customer=customer,
                name=name,
                slug=unique_slug(Project, name, customer=customer),
                description=_clean_text(description),
                end_date=end_date,
                backend_id=backend_id,
                oecd_fos_2007_code=_check_fos_code(oecd_fos_2007_code),
            )
            events_insert([project_event("project_creation_succeeded", project, actor=actor)])
            return project
    except IntegrityError:
        raise ValidationFailed(
            "A project with this backend_id already exists in this customer.", field="backend_id"
        ) from None


def project_update(*, actor: User, project: Project, **fields) -> Project:
    """Owners, project managers and staff change name, description, backend_id, end date, FOS code.

    A change is recorded as an event naming the changed fields; an update that changes nothing records none.
    """
    if not can_manage_project(actor, project):
        raise PermissionDenied("Only the project's managers, the customer's owners and staff may change it.")
    changes = {}
    for key, value in fields.items():
        if key not in PROJECT_UPDATE_FIELDS:
            continue
        if key == "end_date":
            changes[key] = value
        elif key == "oecd_fos_2007_code":
            changes[key] = _check_fos_code(value)
        else:
            changes[key] = _clean_text(value)
    if "name" in changes and not changes["name"]:
        raise ValidationFailed("This field may not be blank.", field="name")
    if "backend_id" in changes:
        _check_backend_id_free(project.customer, changes["backend_id"], exclude_id=project.id)
    try:
        with transaction.atomic():
            changed = update_fields(project, **changes)
            if changed:
                events_insert([project_event("project_update_succeeded", project, actor=actor, changed=changed)])
    except IntegrityError:  # another update took the same backend_id meanwhile
        raise ValidationFailed(
            "A project with this backend_id already exists in this customer.", field="backend_id"
        ) from None
    return project


def project_delete(*, actor: User, project: Project) -> None:
    if not can_manage_customer(actor, project.customer):
        raise PermissionDenied("Only the customer's owners and staff may delete projects.")
    try:
        with transaction.atomic():
            project.delete()
    except ProtectedError:  # resources (or orders) still refer to the project
        raise Conflict("The project still has resources; terminate them first.") from None


# --- events ------------------------------------------------------------------------------------


def project_event(event_type: str, project: Project, *, actor: User | None = None, **context) -> Event:
    """An unsaved event about `project`, seen by whoever may see the project."""
    return event_build(
        event_type,
        scope=("project", project.uuid),
        actor=actor,
        customer=project.customer.uuid,
        context={
            "project_name": project.name,
            "customer_name": project.customer.name,
            "end_date": project.end_date.isoformat() if project.end_date else None,
            **context,
        },
    )


def _role_event(event_type: str, *, scope: Customer | Project, user: User, role: Role, actor, expiration_time) -> Event:
    """An unsaved event about a role on `scope`, seen by whoever may see the project or customer."""
    project = scope if isinstance(scope, Project) else None
    customer = project.customer if project is not None else scope
    return event_build(
        event_type,
        scope=("project" if project is not None else "customer", scope.uuid),
        actor=actor,
        message=f"{user.username}: {role.name} on {scope.name}.",
        customer=customer.uuid,
        project=project.uuid if project is not None else None,
        context={
            "role": role.name,
            "user_uuid": str(user.uuid),
            "username": user.username,
            "project_name": project.name if project is not None else "",
            "customer_name": customer.name,
            "expiration_time": expiration_time.isoformat() if expiration_time else None,
        },
    )


# --- roles -------------------------------------------------------------------------------------


def _scope_filter(scope) -> dict:
    return {"customer": scope} if isinstance(scope, Customer) else {"project": scope}


def _check_role_fits_scope(scope, role: Role) -> None:
    allowed = CUSTOMER_ROLES if isinstance(scope, Customer) else PROJECT_ROLES
    if role.name not in allowed:
        kind = "customer" if isinstance(scope, Customer) else "project"
        raise ValidationFailed(
            f"Role {role.name} cannot be granted on a {kind}; use one of {', '.join(sorted(allowed))}.", field="role"
        )


def _check_expiration(expiration_time: datetime | None) -> None:
    if expiration_time is not None and expiration_time <= timezone.now():
        raise ValidationFailed("Expiration time must be in the future.", field="expiration_time")


def role_grant(
    *, actor: User, scope: Customer | Project, user: User, role: Role, expiration_time: datetime | None = None
) -> RoleGrant:
    """Grant `role` to `user` on `scope`; a user holds a role on a scope at most once."""
    _check_role_fits_scope(scope, role)
    if not can_grant(actor, scope=scope, role_name=role.name):
        raise PermissionDenied(f"You may not grant {role.name} here.")
    _check_expiration(expiration_time)
    now = timezone.now()
    with transaction.atomic():
        held = list(
            RoleGrant.objects.select_for_update().filter(user=user, role=role, is_active=True, **_scope_filter(scope))
        )
        if any(g.expiration_time is None or g.expiration_time > now for g in held):
            raise ValidationFailed("User already has this role within this scope.", field="user")
        # An expired grant that the periodic task has not yet deactivated must not block a new one.
        events = [
            _role_event(
                "role_expired", scope=scope, user=user, role=role, actor=None, expiration_time=g.expiration_time
            )
            for g in held
        ]
        if held:
            RoleGrant.objects.filter(id__in=[g.id for g in held]).update(is_active=False)
        grant = RoleGrant.objects.create(
            user=user, role=role, created_by=actor, expiration_time=expiration_time, **_scope_filter(scope)
        )
        events.append(
            _role_event("role_granted", scope=scope, user=user, role=role, actor=actor, expiration_time=expiration_time)
        )
        events_insert(events)
        hooks.membership_changed(grant=grant, action="add")
    return grant


def role_revoke(*, actor: User, scope: Customer | Project, user: User, role: Role) -> None:
    _check_role_fits_scope(scope, role)
    if not can_grant(actor, scope=scope, role_name=role.name):
        raise PermissionDenied(f"You may not revoke {role.name} here.")
    with transaction.atomic():
        grants = list(
            RoleGrant.objects.select_for_update().filter(user=user, role=role, is_active=True, **_scope_filter(scope))
        )
        if not grants:
            raise ValidationFailed("User does not have this role within this scope.", field="user")
        RoleGrant.objects.filter(id__in=[g.id for g in grants]).update(is_active=False)
        events_insert(
            _role_event(
                "role_revoked", scope=scope, user=user, role=role, actor=actor, expiration_time=g.expiration_time
            )
            for g in grants
        )
        for grant in grants:
            hooks.membership_changed(grant=grant, action="remove")


def role_update_expiration(
    *, actor: User, scope: Customer | Project, user: User, role: Role, expiration_time: datetime | None
) -> RoleGrant:
    _check_role_fits_scope(scope, role)
    if not can_grant(actor, scope=scope, role_name=role.name):
        raise PermissionDenied(f"You may not change {role.name} here.")
    _check_expiration(expiration_time)
    with transaction.atomic():
        grant = (
            RoleGrant.objects.active().select_for_update().filter(user=user, role=role, **_scope_filter(scope)).first()
        )
        if grant is None:
            raise ValidationFailed("User does not have this role within this scope.", field="user")
        grant.expiration_time = expiration_time
        grant.save(update_fields=["expiration_time"])
    return grant


def roles_deactivate_expired(*, now: datetime | None = None) -> int:
    """Mark grants past their expiration time inactive, recording `role_expired` for each; access
    already stopped when they expired."""
    now = now or timezone.now()
    with transaction.atomic():
        expired = list(
            RoleGrant.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user", "role", "customer", "project__customer")
            .filter(is_active=True, expiration_time__lte=now)
        )
        if not expired:
            return 0
        RoleGrant.objects.filter(id__in=[g.id for g in expired]).update(is_active=False)
        events_insert(
            _role_event(
                "role_expired", scope=g.scope, user=g.user, role=g.role, actor=None, expiration_time=g.expiration_time
            )
            for g in expired
        )
        for grant in expired:
            hooks.membership_changed(grant=grant, action="remove")
    return len(expired)


# --- tokens ------------------------------------------------------------------------------------


def token_login(*, request, username: str, password: str) -> str:
    """Check the password and issue a new API token (returned once; only its hash is stored).

    The same lockout guards the portal's and the admin's login (common.login_security): after
    LOGIN_FAILURE_LIMIT failures of this username from this client address within
    LOGIN_FAILURE_WINDOW seconds, the pair is refused until the window has passed, right password or not.
    """
    user = authenticate(request=request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        retry_after = max(1, lockout_seconds_left(request, {"username": username}))
        raise TooManyAttempts(LOCKED_OUT_MESSAGE, retry_after=retry_after)
    if user is None or not user.is_active:
        raise ValidationFailed("Unable to log in with provided credentials.", field="non_field_errors")
    user_logged_in.send(sender=user.__class__, request=request, user=user)  # resets the failures, sets last_login
    return token_issue(user=user)


def token_issue(*, user: User) -> str:
    """A new token for `user`, bound to their current password; drops their expired and revoked ones."""
    key = AuthToken.new_key()
    lifetime = settings.TOKEN_LIFETIME
    now = timezone.now()
    AuthToken.objects.filter(user=user).exclude(id__in=AuthToken.objects.usable_by(user).values("id")).delete()
    AuthToken.objects.create(
        user=user,
        key_hash=hash_token_key(key),
        prefix=key[:8],
        expires_at=now + lifetime if lifetime.total_seconds() > 0 else None,
        last_used=now,
        password_fingerprint=password_fingerprint(user),
    )
    token_cache.issued(hash_token_key(key))  # its first request can then be the last to query for it
    return key


def token_mark_used(*, token: AuthToken) -> None:
    """Record a use of `token`, at most once per TOKEN_LAST_USED_PRECISION (no write on most requests)."""
    now = timezone.now()
    if token.last_used is None or now - token.last_used >= TOKEN_LAST_USED_PRECISION:
        AuthToken.objects.filter(id=token.id).update(last_used=now)
        token.last_used = now


def token_revoke(*, actor: User, token: AuthToken) -> None:
    """A user revokes their own tokens only (staff included: a token is its holder's to manage)."""
    if token.user_id != actor.id:
        raise PermissionDenied("You may revoke only your own tokens.")
    AuthToken.objects.filter(id=token.id).delete()
    token_cache.forget_token(token.key_hash)  # the next request with it reads the database, and fails


def user_update_notification_settings(*, user: User, changes: dict) -> User:
    """A person turns kinds of mail on or off for themselves; the kinds named are merged over their
    current choices (unknown kinds, staff-only kinds for others, and non-booleans are refused).
    Read-only accounts (global support) change nothing, this included."""
    if not may_write(user):
        raise PermissionDenied("This account is read-only (global support): it may read everything and change nothing.")
    changes = check_settings(user, changes)
    with transaction.atomic():
        user = User.objects.select_for_update().get(id=user.id)
        user.notification_settings = {**(user.notification_settings or {}), **changes}
        user.save(update_fields=["notification_settings"])
    return user
