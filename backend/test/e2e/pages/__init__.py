"""Page objects: one class per screen, holding its locators and the steps people take."""

from .account import AccountPage
from .admin import AdminPage
from .base import BasePage
from .login import LoginPage, RegisterPage
from .todos import ListSettingsPage, TodoFormPage, TodoListPage

__all__ = [
    "AccountPage",
    "AdminPage",
    "BasePage",
    "LoginPage",
    "ListSettingsPage",
    "RegisterPage",
    "TodoFormPage",
    "TodoListPage",
]
