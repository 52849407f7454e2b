from .roles import Role, RoleGrant, RoleName
from .structure import OECD_FOS_2007_CODES, Customer, Project
from .tokens import AuthToken
from .users import User

__all__ = ["OECD_FOS_2007_CODES", "AuthToken", "Customer", "Project", "Role", "RoleGrant", "RoleName", "User"]
