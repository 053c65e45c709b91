from django.db import models


class Role(models.TextChoices):
    EXECUTIVE = "executive", "Executive"
    MANAGER = "manager", "Manager"
    REP = "rep", "Rep"
    ADMIN = "admin", "Admin"
