from django.urls import path

from . import views


def register(router):
    router.register("apel-unmatched-records", views.UnmatchedApelRecordViewSet, basename="apel-unmatched-record")


urlpatterns = [
    path("api/provider/apel/", views.ApelMessageView.as_view(), name="provider-apel"),
    path("api/apel-export/", views.ApelExportView.as_view(), name="apel-export"),
]
