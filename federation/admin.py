from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import AuthToken, Customer, Project, Role, RoleGrant, User


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    fk_name = None
    extra = 0
    raw_id_fields = ("user", "created_by")
    fields = ("user", "role", "expiration_time", "is_active", "created_by", "created")
    readonly_fields = ("created", "created_by")


class CustomerRoleInline(RoleGrantInline):
    fk_name = "customer"
    exclude = ("project",)


class ProjectRoleInline(RoleGrantInline):
    fk_name = "project"
    exclude = ("customer",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "full_name", "email", "cuid", "is_staff", "is_support", "is_active")
    list_filter = ("is_staff", "is_support", "is_identity_manager", "is_active", "registration_method")
    search_fields = ("username", "full_name", "email", "cuid", "uuid")
    readonly_fields = ("uuid", "last_login", "date_joined", "notification_settings")
    fieldsets = (
        (None, {"fields": ("uuid", "username", "password")}),
        ("Person", {"fields": ("full_name", "email", "cuid", "registration_method")}),
        ("Notifications", {"fields": ("notification_settings",)}),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_support", "is_identity_manager", "is_superuser", "groups")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "abbreviation", "email", "backend_id", "created")
    search_fields = ("name", "native_name", "abbreviation", "email", "backend_id", "uuid")
    readonly_fields = ("uuid", "created")
    inlines = [CustomerRoleInline]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "customer", "backend_id", "end_date", "is_active", "created")
    list_filter = ("is_active", "oecd_fos_2007_code")
    search_fields = ("name", "description", "backend_id", "uuid", "customer__name")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    readonly_fields = ("uuid", "created")
    inlines = [ProjectRoleInline]


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "customer", "project", "expiration_time", "is_active", "created")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "user__full_name", "customer__name", "project__name")
    list_select_related = ("user", "role", "customer", "project")
    raw_id_fields = ("user", "customer", "project", "created_by")
    readonly_fields = ("uuid", "created", "created_by")


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "uuid", "description")
    readonly_fields = ("uuid", "name")


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    """Keys are never shown: only their hash is stored. Deleting a token revokes it.

    A token whose user has changed password since it was issued no longer authenticates.
    """

    list_display = ("prefix", "user", "created", "expires_at", "last_used")
    search_fields = ("user__username", "prefix", "uuid")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("uuid", "prefix", "user", "created", "expires_at", "last_used")

    def has_add_permission(self, request):
        return False
