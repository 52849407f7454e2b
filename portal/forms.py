"""Portal forms built from the catalogue. They only convert what a browser sends into the shapes the services
take; the rules (ranges, required options, permissions, terms) are the services', and their DomainErrors are
put back on the form next to the field they name."""

from datetime import datetime, time

from django import forms
from django.utils import timezone

from common.exceptions import DomainError
from federation.models import Project, RoleName
from federation.notification_kinds import kinds_for, wants
from marketplace.models import BillingType, Offering, Resource
from marketplace.processors import capabilities
from marketplace.services.validation import OPTION_TYPES, RESERVED_ATTRIBUTES, visible_options
from portal.selectors import project_choices
from portal.templatetags.portal_format import ROLE_LABELS

OPTION_PREFIX = "option_"
LIMIT_PREFIX = "limit_"


def limit_components(offering: Offering) -> list:
    """The offering's limit-billed components, from the prefetched list when there is one."""
    components = getattr(offering, "components_list", None)
    if components is None:
        components = list(offering.components.all())
    return [c for c in components if c.billing_type == BillingType.LIMIT]


def _limit_field(component, *, initial) -> forms.IntegerField:
    attrs = {"min": component.min_value, "max": component.max_value}
    unit = f" ({component.measured_unit})" if component.measured_unit else ""
    return forms.IntegerField(
        label=f"{component.name}{unit}",
        required=False,
        initial=initial,
        help_text=component.description,
        widget=forms.NumberInput(attrs={k: v for k, v in attrs.items() if v is not None}),
    )


def _option_field(spec: dict) -> forms.Field:
    kind = OPTION_TYPES.get(spec.get("type"), "string")
    common = dict(
        label=spec.get("label"),
        help_text=spec.get("help_text", ""),
        initial=spec.get("default"),
        required=False,  # an empty value takes the default; the service says when a required one is missing
    )
    if kind == "integer":
        attrs = {k: spec[k] for k in ("min", "max") if k in spec}
        return forms.IntegerField(widget=forms.NumberInput(attrs=attrs), **common)
    if kind == "boolean":
        return forms.BooleanField(**common)
    if kind == "enum":
        blank = [] if "default" in spec else [("", "—")]
        by_text = {str(c): c for c in spec["choices"]}  # choices keep their JSON type (1, not "1")
        return forms.TypedChoiceField(
            choices=blank + [(key, key) for key in by_text], coerce=lambda v: by_text.get(v, v), **common
        )
    attrs = {"maxlength": spec["max_length"]} if "max_length" in spec else {}
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


class DomainErrorForm(forms.Form):
    """A form that shows a service's DomainError next to the field it is about."""

    # The service's field name → the form field(s) it is about.
    service_fields: dict[str, str] = {}

    def add_domain_error(self, exc: DomainError) -> None:
        field = self._field_for(exc)
        self.add_error(field if field in self.fields else None, exc.message)

    def _field_for(self, exc: DomainError) -> str | None:
        """The form field of the error's path: `limits.gpus` → limit_gpus, `attributes.partition` →
        option_partition (`attributes.name` → name); a top-level path through `service_fields`."""
        match exc.path:
            case ("limits", key):
                return LIMIT_PREFIX + key
            case ("attributes", key):
                return key if key in RESERVED_ATTRIBUTES else OPTION_PREFIX + key
        return self.service_fields.get(exc.field or "", exc.field)


class OrderForm(DomainErrorForm):
    """A create order for one offering: project, plan, name, the offering's options and limits, terms."""

    service_fields = {"accepting_terms_of_service": "accept_terms"}

    project = forms.ModelChoiceField(queryset=Project.objects.none(), to_field_name="uuid", empty_label=None)
    plan = forms.ChoiceField(required=False)
    name = forms.CharField(max_length=RESERVED_ATTRIBUTES["name"], help_text="Names the new resource.")
    description = forms.CharField(
        required=False, max_length=RESERVED_ATTRIBUTES["description"], widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, offering: Offering, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.offering = offering
        self.fields["project"].queryset = projects
        choices = project_choices(projects)
        if choices is None:  # too many to list: the project's UUID, checked against `projects` all the same
            self.fields["project"].widget = forms.TextInput(attrs={"size": 36})
            self.fields["project"].help_text = "The project's UUID, as shown in the address of its page."
        else:
            self.fields["project"].widget.choices = [(p.uuid, str(p)) for p in choices]
        self.may_order = choices is None or bool(choices)
        self.plans = {str(p.uuid): p for p in getattr(offering, "plans_list", offering.plans.all()) if not p.archived}
        self.fields["plan"].choices = [(key, plan.name) for key, plan in self.plans.items()]
        if not self.plans:
            del self.fields["plan"]
        schema = visible_options(offering.options, capabilities(offering)) or {}
        self.option_names = list(schema.get("order") or schema.get("options", {}))
        for name in self.option_names:
            self.fields[OPTION_PREFIX + name] = _option_field(schema["options"][name])
            self.fields[OPTION_PREFIX + name].label = self.fields[OPTION_PREFIX + name].label or name
        self.limit_types = []
        for component in limit_components(offering):
            self.limit_types.append(component.type)
            self.fields[LIMIT_PREFIX + component.type] = _limit_field(component, initial=component.default_limit)
        if offering.has_terms:
            self.fields["accept_terms"] = forms.BooleanField(label="I accept the terms of service", required=True)

    def option_fields(self):
        return [self[OPTION_PREFIX + name] for name in self.option_names]

    def limit_fields(self):
        return [self[LIMIT_PREFIX + key] for key in self.limit_types]

    def service_arguments(self) -> dict:
        """The cleaned form as keyword arguments of `order_create` (without the actor)."""
        data = self.cleaned_data
        attributes = {"name": data["name"]}
        if data.get("description"):
            attributes["description"] = data["description"]
        for name in self.option_names:
            value = data.get(OPTION_PREFIX + name)
            if value not in (None, ""):
                attributes[name] = value
        limits = {key: data[LIMIT_PREFIX + key] for key in self.limit_types if data.get(LIMIT_PREFIX + key) is not None}
        return dict(
            project=data["project"],
            offering=self.offering,
            plan=self.plans.get(data.get("plan") or ""),
            attributes=attributes,
            limits=limits,
            accepting_terms_of_service=bool(data.get("accept_terms")),
        )


class LimitsForm(DomainErrorForm):
    """New limits of a resource, one number per limit-billed component, starting from the current ones."""

    def __init__(self, *args, resource: Resource, components, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_types = []
        for component in components:
            if component.billing_type != BillingType.LIMIT:
                continue
            self.limit_types.append(component.type)
            self.fields[LIMIT_PREFIX + component.type] = _limit_field(
                component, initial=resource.limits.get(component.type)
            )

    def limits(self) -> dict:
        data = self.cleaned_data
        return {key: data[LIMIT_PREFIX + key] for key in self.limit_types if data.get(LIMIT_PREFIX + key) is not None}


class NotificationSettingsForm(DomainErrorForm):
    """One checkbox per kind of mail the person may choose, ticked when it is on."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in kinds_for(user):
            self.fields[kind.name] = forms.BooleanField(
                label=kind.label, help_text=kind.description, required=False, initial=wants(user, kind.name)
            )

    def _field_for(self, exc: DomainError) -> str | None:
        return exc.path[-1] if exc.path else None

    def changes(self) -> dict[str, bool]:
        return {name: bool(self.cleaned_data.get(name)) for name in self.fields}


class MemberAddForm(DomainErrorForm):
    """A person (by e-mail address or CUID) with one of the roles the actor may grant, until an optional day."""

    service_fields = {"user": "identifier", "expiration_time": "expires"}
    ROLE_ORDER = (RoleName.PROJECT_MEMBER, RoleName.PROJECT_ADMIN, RoleName.PROJECT_MANAGER)

    identifier = forms.CharField(
        label="E-mail address or CUID",
        max_length=254,
        help_text="The person needs an account: they log in once, or staff look their CUID up.",
    )
    role = forms.ChoiceField()
    expires = forms.DateField(
        label="Access ends after",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The last day of access; leave empty for no end.",
    )

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(str(name), ROLE_LABELS[name]) for name in self.ROLE_ORDER if name in roles]

    def expiration_time(self) -> datetime | None:
        """The last moment of the chosen day in the site's time zone (the service refuses one already past)."""
        day = self.cleaned_data.get("expires")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time.max))
