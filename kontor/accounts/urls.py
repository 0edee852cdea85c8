from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.settings_home, name="settings"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/password/", views.user_password, name="user_password"),
    path("users/<int:pk>/send-reset/", views.user_send_reset, name="user_send_reset"),
    path("password/", views.password_change, name="password_change"),
    path("departments/", views.department_list, name="department_list"),
    path("departments/<int:pk>/", views.department_edit, name="department_edit"),
    path("departments/<int:pk>/delete/", views.department_delete, name="department_delete"),
    path("roles/", views.role_list, name="role_list"),
    path("roles/new/", views.role_create, name="role_create"),
    path("roles/<int:pk>/", views.role_edit, name="role_edit"),
    path("roles/<int:pk>/delete/", views.role_delete, name="role_delete"),
    path("events/", views.event_list, name="event_list"),
    path("events/retry/", views.event_retry, name="event_retry"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
