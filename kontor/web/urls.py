from django.urls import path

from . import fields, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("search/", views.search_page, name="search"),
    path("search/suggest/", views.search_suggest, name="search_suggest"),
    path("history/<str:object_type>/<int:pk>/", views.object_history, name="history"),
    path("records/<str:object_type>/options/", views.record_options, name="record_options"),
    path("settings/fields/", fields.field_list, name="field_list"),
    path("settings/fields/<str:object_type>/", fields.field_type, name="field_type"),
    path("settings/fields/<str:object_type>/new/", fields.field_create, name="field_create"),
    path("settings/fields/edit/<int:pk>/", fields.field_edit, name="field_edit"),
    path("settings/fields/edit/<int:pk>/delete/", fields.field_delete, name="field_delete"),
    path("exports/<int:pk>/", views.export_job, name="export_job"),
    path("exports/<int:pk>/file/", views.export_job_file, name="export_job_file"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"),
]
