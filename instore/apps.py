from django.apps import AppConfig


class InstoreConfig(AppConfig):
    name = "instore"
    verbose_name = "In store"
    default_auto_field = "django.db.models.BigAutoField"
