"""Roles as data: each role's key (as stored in users.role), Chinese label, jurisdiction length and what it may do.

An action is either a named task ("record_bill", "manage_users" …) or a workflow step written "state.action"
("county_approval.approve"). Who acts at each workflow state is the state machine's fact (rules.STEPS), so a
role's workflow steps are read from there; who may record bills is the segregation-of-duties table's fact
(duties.BILL_RECORDERS). Everything else a role may do is listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.workflow import duties, rules

# Tasks outside the 依申请救助 steps, with the words a refusal uses.
TASKS = {
    "register": "登记或修改家庭、人员和参保",
    "edit_categories": "登记或修改身份类别",
    "record_bill": "录入就诊账单",
    "correct_bill": "作废或更正账单",
    "import_lists": "导入身份名单",
    "create_application": "登记依申请救助",
    "attach": "为依申请救助添加附件",
    "manage_users": "管理用户",
    "change_settings": "修改本县政策、地方参数和依申请救助办理设置",
    "make_demo": "生成演示数据",
    "exchange": "导出导入交换包、与县级同步",
    "resettle": "重新结算",
    "print": "打印结算单、审批表、公示名单和花名册",
    "disburse_batch": "生成发放批次（打印医疗救助发放花名册）",
    "confirm_disbursement": "确认发放批次已发放",
    "cancel_disbursement": "撤销尚未发放的发放批次",
    "manage_site_keys": "登记或吊销站点的公钥、设定县级公钥",
    "simulate": "政策测算（测算拟调整政策下的医疗救助基金支出）",
}
# The office's own assistance is paid in batches: the township caseworker draws up the roster, and someone who
# records no bills confirms that it was paid (entering money and approving its payment do not meet in one person).
# A roster printed wrong (or not paid after all) is cancelled before payment by either of them.
_DISBURSE = frozenset({"disburse_batch", "cancel_disbursement"})
_CONFIRM = frozenset({"confirm_disbursement", "cancel_disbursement"})
# What every signed-in person may do within their jurisdiction: look, print, re-run the engine, exchange records
# (a county office's installation syncs too, to receive the townships' cases).
_EVERYONE = frozenset({"print", "resettle", "exchange", "attach"})
# Recording facts about people (a household, its members, insurance) is not a decision on money, and today every
# office keeps them; 身份类别 decide money, so only those who certify or receive the lists keep them.
_REGISTRY = frozenset({"register"})
_CATEGORIES = frozenset({"edit_categories", "import_lists"})
# 政策测算 weighs a change of the county's own values against its fund (黔南 三(四), 湖南 六(二)): the county's
# offices and its administrator, who sets the values, run it; a township office decides no county value.
_COUNTY = frozenset({"simulate"})


@dataclass(frozen=True)
class Role:
    """A role: `key` is what users.role stores; `scope` is the length of its jurisdiction code (0: everywhere)."""

    key: str
    label: str
    scope: int
    tasks: frozenset[str]
    assignable: bool = True    # False for the command line's own user, which no account can hold

    @property
    def actions(self) -> frozenset[str]:
        """Everything this role may do under the default duties (see actions_under)."""
        return self.actions_under(duties.DEFAULT)

    def actions_under(self, options: duties.Options) -> frozenset[str]:
        """Everything this role may do: its tasks, bill recording if the duties table (and the county's options
        there) allow, its workflow steps."""
        bills = duties.BILL_ACTIONS if self.key in options.bill_recorders() else frozenset()
        return self.tasks | bills | workflow_steps(self.key)


def workflow_steps(role: str) -> frozenset[str]:
    """The "state.action" steps the state machine gives this role."""
    out = set()
    for state, step in rules.STEPS.items():
        for action in step.actions + (tuple(rules.COUNTY_PARTS) if state == "county_approval" else ()):
            if rules.role_for(state, action) == role:
                out.add(f"{state}.{action}")
    return frozenset(out)


SYSTEM_KEY = "系统"
ROLES: dict[str, Role] = {r.key: r for r in (
    Role("村级经办", "村级经办（村居代办员）", 12, _EVERYONE | _REGISTRY | {"edit_categories", "create_application"}),
    Role("乡镇经办", "乡镇经办", 9, _EVERYONE | _REGISTRY | _CATEGORIES | _DISBURSE | {"create_application"}),
    Role("乡镇审核", "乡镇审核", 9, _EVERYONE | _REGISTRY | _CONFIRM),
    Role("县级医保审核", "县级医保审核（医保部门审核费用）", 6, _EVERYONE | _REGISTRY | _COUNTY),
    Role("县级民政审核", "县级民政审核（民政部门认定收入财产）", 6, _EVERYONE | _REGISTRY | _CATEGORIES | _COUNTY),
    Role("县级审批", "县级审批", 6, _EVERYONE | _REGISTRY | _CONFIRM | _COUNTY),
    # The county's administrator keeps accounts, the policy and the lists; it takes no workflow step and records no
    # bill, so that nobody who manages accounts also enters money.
    Role("管理员", "管理员", 6, _EVERYONE | _REGISTRY | _CATEGORIES | _COUNTY |
         {"manage_users", "change_settings", "make_demo", "manage_site_keys"}),
    # The command line and the demo generator act as this user (jiuzhu init, user add, demo, import-list, resettle,
    # packages): whoever can run them on this machine can already change the file, so refusing them here protects
    # nothing and would break set-up. It takes no workflow step and registers no 依申请救助: those are decisions
    # that must name a person (the demo walks its cases as the demo users).
    Role(SYSTEM_KEY, "系统（命令行）", 0, _EVERYONE | _REGISTRY | _CATEGORIES | _COUNTY | _DISBURSE | _CONFIRM |
         {"manage_users", "change_settings", "make_demo", "manage_site_keys"}, assignable=False),
)}
# The roles an account may hold, in the order the user dialog offers them.
ASSIGNABLE = tuple(k for k, r in ROLES.items() if r.assignable)


def holders(action: str, options: duties.Options = duties.DEFAULT) -> list[str]:
    """The roles that may take an action, for a refusal that says who may."""
    return [k for k, r in ROLES.items() if r.assignable and action in r.actions_under(options)]
