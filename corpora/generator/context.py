"""The per-item context: who writes to whom, the debt, and how slots are filled."""

from __future__ import annotations

import random
from datetime import datetime

from models.labels import AMOUNT_ROLE_NAMES

from . import dates, money, slots
from .doc import Piece, parse

ROLE_ALIAS = {"overdue": "overdue_amount", "total": "total_due", "min": "minimum_payment", "settle": "settlement"}
RELP = ["儿子", "女儿", "丈夫", "妻子", "父亲", "母亲", "弟弟", "哥哥", "姐姐", "妹妹", "同事", "朋友", "侄子", "外甥"]
SCAMAPP = ["信用修复", "征信管家", "账户注销助手", "学贷注销", "逾期清零", "债务优化", "安心还", "消逾宝", "E还款"]


class Ctx:
    def __init__(self, rng: random.Random, ref: datetime, channel: str, stage: str, register: str = "polite"):
        self.rng = rng
        self.ref = ref
        self.channel = channel
        self.stage = stage
        self.register = register
        self.spoken = False
        self.person = slots.person(rng)
        self.third = slots.person(rng)
        self.cred = slots.creditor(rng)
        self.prod = slots.product(rng, self.cred)
        self.agency = slots.agency(rng)
        self.firm = slots.law_firm(rng)
        self.court = slots.court(rng)
        self.agent = slots.agent_name(rng)
        self.tail = slots.tail(rng)
        self.phone = slots.hotline(rng)
        self.name = slots.address_name(self.person, rng)
        self.overdue_days: int | None = None
        self._od_phrase_cache: int | None = None
        o = money.random_cents(rng, 300, 120000)
        fee = max(100, int(o * rng.uniform(0.02, 0.2)))
        if rng.random() < 0.5:
            fee = int(round(fee, -2)) or 100
        total = o + fee
        self.cents = {
            "overdue_amount": o,
            "fee": fee,
            "total_due": total if rng.random() < 0.7 else money.random_cents(rng, 500, 200000),
            "minimum_payment": max(1000, int(round(total * rng.uniform(0.05, 0.12)))),
            "settlement": max(10000, int(round(total * rng.uniform(0.4, 0.85), -4 if rng.random() < 0.6 else 0))),
            "other": money.random_cents(rng, 100, 100000),
        }
        if rng.random() < 0.3:
            self.cents["minimum_payment"] = int(round(self.cents["minimum_payment"], -2)) or 100
        self.n_deadlines = 0
        self.max_deadlines = 2
        self.money_register = "any"
        self.cache: dict[str, str] = {}

    # -- helpers ---------------------------------------------------------------
    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def frag(self, template: str, flags: tuple[str, ...] = ()) -> list[Piece]:
        return parse(template, self.rng, self.slot, flags)

    def once(self, key: str, fn) -> str:
        if key not in self.cache:
            self.cache[key] = fn()
        return self.cache[key]

    def _od(self) -> str:
        rng = self.rng
        if self.overdue_days is None:
            r = rng.random()
            if r < 0.55:
                n = rng.randrange(1, 60)
            elif r < 0.75:
                n = rng.randrange(60, 400)
            elif r < 0.92:
                n = 30 * rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12])
            else:
                n = rng.choice([180, 365, 730])
            self.overdue_days = n
        n = self.overdue_days
        forms = [f"已逾期{n}天", f"逾期{n}天", f"逾期已达{n}天", f"已经逾期{n}天", f"逾期{n}日", f"逾期第{n}天", f"已逾期{dates.cn_num(n)}天"]
        if n % 30 == 0 and n <= 360:
            k = n // 30
            kk = "两" if k == 2 else dates.cn_num(k)
            forms = [f"逾期{kk}个月", f"已逾期{kk}个月", f"已经逾期{kk}个月", f"逾期{k}个月", f"已逾期{kk}个月"]
        if n == 180:
            forms += ["逾期半年", "已逾期半年"]
        if n == 365:
            forms = ["已逾期1年", "逾期一年", "已经逾期一年", "逾期1年"]
        if n == 730:
            forms = ["逾期两年", "已逾期2年", "已经逾期两年"]
        return rng.choice(forms)

    def amount(self, role: str) -> list[Piece]:
        role = ROLE_ALIAS.get(role, role)
        assert role in AMOUNT_ROLE_NAMES, role
        cents = self.cents[role]
        if role == "other" and "other_used" in self.cache:
            cents = money.random_cents(self.rng, 100, 50000)
        self.cache["other_used"] = "1"
        if self.spoken:
            surf = money.spoken(cents, self.rng)
        else:
            surf, _ = money.render(cents, self.rng, self.money_register)
        return [Piece(surf, "amount", {"value": money.value_of(cents), "role": role, "cents": cents})]

    def deadline(self, style: str | None) -> list[Piece]:
        style = style or "by"
        if self.spoken:
            style = "spoken" if style == "by" else style
        surf, value, kind = dates.deadline(self.rng, self.ref, style)
        return [Piece(surf, "deadline", {"value": value, "kind": kind})]

    # -- slots -------------------------------------------------------------------
    def slot(self, name: str, arg: str | None) -> list[Piece]:
        rng = self.rng
        fx = lambda s: [Piece(s, "fixed")]  # noqa: E731
        if name == "AMT":
            return self.amount(arg or "other")
        if name == "DL":
            return self.deadline(arg)
        if name == "OD":
            return [Piece(self._od())]
        if name == "NAME":
            return fx(self.name)
        if name == "FULL":
            return fx(self.person["full"])
        if name == "TITLE":
            return [Piece(self.person["title"])]
        if name == "DEBTOR":
            return fx(self.person["full"] if rng.random() < 0.7 else slots.masked(self.person, rng))
        if name == "RELP":
            return [Piece(self.once("relp", lambda: self.pick(RELP)))]
        if name == "REL":
            return [Piece(self.pick(slots.RELATIVES))]
        if name == "CRED":
            return fx(self.cred["short"])
        if name == "CREDF":
            return fx(self.cred["full"])
        if name == "APP":
            return fx(self.cred["app"])
        if name == "PROD":
            return [Piece(self.prod)]
        if name == "AGENCY":
            return fx(self.agency)
        if name == "AGS":
            return fx(slots.agency_short(self.agency))
        if name == "FIRM":
            return fx(self.firm)
        if name == "COURT":
            return fx(self.court)
        if name == "ARB":
            return fx(self.once("arb", lambda: slots.arbitration(rng)))
        if name == "POLICE":
            return fx(slots.police(rng))
        if name == "LAWYER":
            return fx(self.once("lawyer", lambda: slots.lawyer(rng)))
        if name == "AGENT":
            return fx(self.agent)
        if name == "STAFF":
            return fx(self.once("staff", lambda: slots.staff_id(rng)))
        if name == "TAIL":
            return fx(self.tail)
        if name == "PHONE":
            return fx(self.phone)
        if name == "MOBILE":
            return fx(slots.mobile(rng))
        if name == "ACCT":
            return fx(slots.bank_account(rng))
        if name == "PAYEE":
            return fx(slots.person(rng)["full"])
        if name == "IDNO":
            return fx(slots.id_number(rng))
        if name == "ADDR":
            return fx(slots.address(rng))
        if name == "WX":
            return fx(slots.wechat(rng))
        if name == "QQ":
            return fx(slots.qq(rng))
        if name == "LINK":
            return fx(slots.scam_link(rng))
        if name == "SCAMAPP":
            return fx(self.pick(SCAMAPP))
        if name == "CASENO":
            return fx(self.once("case", lambda: slots.case_no(rng, self.ref.year)))
        if name in ("RATE", "PCT"):
            return [Piece(slots.rate(rng))]
        if name == "EMPLOYER":
            return fx(slots.employer(rng))
        if name == "PLACE":
            return [Piece(self.pick(slots.PLACES))]
        if name == "PAST":
            return [Piece(dates.past_date(rng, self.ref, 2, 60))]
        if name == "PASTY":
            return [Piece(dates.past_date(rng, self.ref, 2, 200, True))]
        if name == "ODSTART":
            d = self.overdue_days or rng.randrange(20, 200)
            from datetime import timedelta

            return [Piece(dates.date_text(self.ref.date() - timedelta(days=d), rng))]
        if name == "LOANDATE":
            from datetime import timedelta

            d = self.ref.date() - timedelta(days=rng.randrange(120, 900))
            return [Piece(rng.choice([f"{d.year}年{d.month}月", f"{d.year}年{d.month}月{d.day}日", f"{d.year}年"]))]
        if name == "BALDATE":
            return [Piece(dates.past_date(rng, self.ref, 0, 5, rng.random() < 0.6))]
        if name == "FUT":
            return [Piece(dates.visit_when(rng, self.ref))]
        if name == "FUTDATE":
            return [Piece(dates.future_date(rng, self.ref, 1, 20))]
        if name == "LDATE":
            return [Piece(dates.letter_date(rng, self.ref))]
        if name == "LDATE_MONTH":
            return [Piece(f"{self.ref.month}月")]
        if name == "NUM":
            return [Piece(str(rng.choice([2, 3, 3, 4, 5, 6, 8, 12])))]
        if name == "TRACK":
            return fx(rng.choice(["EMS", "SF", "YT"]) + str(rng.randrange(10**9, 10**12)))
        if name == "CODE":
            return fx(f"{rng.randrange(10**6):06d}" if rng.random() < 0.8 else f"{rng.randrange(10**4):04d}")
        if name == "GIFT":
            from .fragments.nonecoll import GIFT

            return [Piece(self.pick(GIFT))]
        raise KeyError(name)
