"""Slot values: fictional creditors, agencies, law firms, courts, people, numbers, links.

Every name is assembled from parts so that thousands of distinct fictional names exist;
none is meant to denote a real organisation.
"""

from __future__ import annotations

import random

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_M = "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 帅 旭 宁 龙 林 阳 建国 志强 海波 晓东 文博 子豪 国庆 振华 立新 永刚 德明 家豪 宏伟 建军 小龙 大鹏 少华 天宇 俊杰 思远".split()
GIVEN_F = "芳 娜 敏 静 丽 艳 娟 霞 玲 燕 婷 雪 琳 颖 倩 洁 莉 萍 红 梅 慧 欣 悦 晶 蕾 佳 月 秀英 桂兰 丽华 晓燕 雅琴 春梅 海燕 玉兰 美玲 思琪 雨涵 梦瑶 欣怡 佳怡 紫萱 婉清 秋菊 淑珍".split()

_CITY = "江州 临川 安平 清河 云阳 宁远 东陵 西岭 南浦 北川 青州 兰溪 丰城 泰和 嘉平 永安 长宁 明湖 海陵 石桥 金沙 白河 广平 桐乡 枫林 鹤山 松江 雁门 梧州 柳岸 新丰 凤台".split()
_DISTRICT = "城关 高新 滨江 开发 东湖 西城 南湖 北关 经开 中山 新华 解放 朝晖 和平 临港 望江 湖滨 江北 天河 光明".split()
_BANK_PRE = "瑞丰 嘉禾 汇通 恒源 兴隆 泰丰 富民 鼎盛 融和 锦程 聚宝 宏达 通济 昌盛 德邦 安盈 华信 永丰 金穗 长兴 汇丰源 惠民 中泰 鑫源 中和 信达 普惠 百川 银河 九州 远航 晨星 众诚 同心 万融 吉祥 福源 厚德 诚泰 天成".split()
_BANK_SUF = ["银行", "农商银行", "城商银行", "银行信用卡中心", "村镇银行", "商业银行"]
_FIN_SUF = ["消费金融", "消费金融有限公司", "小额贷款有限公司", "小贷", "融资担保", "金融科技", "网络小贷"]
_APP_A = "快 速 易 闪 乐 享 花 秒 好 安 优 信 融 任 随 微 极 有 来 借 及时 随心 放心 轻松 分秒 满分 小象 小鹿 橙子 蜜柚 豆豆 星星 月光 口袋 钱包 米粒".split()
_APP_B = [
    "借",
    "贷",
    "花",
    "分期",
    "借呗",
    "钱包",
    "白条",
    "借款",
    "钱庄",
    "金",
    "用钱",
    "宝",
    "卡",
    "易借",
    "速贷",
]
_AG_PRE = "恒达 鼎诚 正信 安捷 立信 明衡 通泰 宏信 卓越 锐信 致远 信和 金盾 天平 博融 中诚 诚毅 君安 联信 瑞信 汇诚 鸿鹄 启明 佳信 广信 汇理".split()
_AG_SUF = [
    "资产管理有限公司",
    "信息咨询有限公司",
    "商务咨询服务有限公司",
    "企业管理咨询有限公司",
    "资产管理公司",
    "信用管理有限公司",
    "数据服务有限公司",
    "催收服务中心",
]
_FIRM_PRE = "明正 正衡 德衡 公信 君泽 衡平 同律 方圆 正则 铭诚 宏法 天衡 博众 致和 中鼎 汇法 金石 尚义 守正 持平 信诺 开元".split()

PRODUCT_KIND = [
    "信用卡",
    "消费贷",
    "信用贷款",
    "分期借款",
    "现金贷",
    "车贷",
    "装修贷",
    "备用金",
    "网贷",
    "经营贷",
]
RELATIVES = [
    "你老婆",
    "你老公",
    "你爸妈",
    "你父母",
    "你儿子",
    "你女儿",
    "你妈",
    "你爸",
    "你媳妇",
    "你弟弟",
    "你姐姐",
    "你家里人",
    "你岳父",
    "你对象",
]
RELATIVES_POLITE = ["您的配偶", "您的父母", "您的家人", "您的紧急联系人", "您的亲属"]
EMOJI = ["😊", "🙏", "⚠️", "‼️", "💰", "📢", "👉", "🔥", "❗", "✅", "📞", "😡", "👍", "🎉", "💳", "⏰"]
PLACES = ["户籍地", "现住址", "单位", "工作单位", "居住地", "户籍所在地", "常住地址", "办公地点", "老家"]


def pick(rng: random.Random, seq):
    return seq[rng.randrange(len(seq))]


def person(rng: random.Random) -> dict:
    sur = pick(rng, SURNAMES)
    male = rng.random() < 0.55
    given = pick(rng, GIVEN_M if male else GIVEN_F)
    title = "先生" if male else "女士"
    return {"surname": sur, "given": given, "full": sur + given, "title": title, "male": male}


def masked(p: dict, rng: random.Random) -> str:
    g = p["given"]
    return pick(
        rng,
        [
            p["surname"] + "*" * len(g),
            p["surname"] + "*" + g[-1] if len(g) > 1 else p["surname"] + "*",
            p["surname"] + "**",
            "*" + g,
        ],
    )


def address_name(p: dict, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        return p["surname"] + p["title"]
    if r < 0.6:
        return p["full"] + p["title"]
    if r < 0.75:
        return p["full"]
    if r < 0.85:
        return masked(p, rng) + p["title"]
    return masked(p, rng)


def creditor(rng: random.Random) -> dict:
    pre = pick(rng, _BANK_PRE)
    r = rng.random()
    if r < 0.45:
        suf = pick(rng, _BANK_SUF)
        full = pre + suf
        short = pre + ("银行" if "银行" in suf else "")
        kind = "bank"
    elif r < 0.75:
        suf = pick(rng, _FIN_SUF)
        full = pre + suf
        short = pre + ("消费金融" if "消费" in suf else "小贷" if "小" in suf else "金融")
        kind = "finance"
    else:
        full = pick(rng, _APP_A) + pick(rng, _APP_B)
        short = full
        kind = "app"
    return {
        "full": full,
        "short": short,
        "kind": kind,
        "app": short + pick(rng, ["APP", "App", "", "客户端"]),
    }


def product(rng: random.Random, cred: dict) -> str:
    if cred["kind"] == "bank":
        return pick(rng, ["信用卡", "信用卡", "消费贷", "信用贷", "分期业务", "快贷", "个人贷款"])
    if cred["kind"] == "app":
        return cred["short"]
    return pick(rng, ["消费贷款", "分期借款", "信用借款", cred["short"] + "借款", "现金分期"])


def agency(rng: random.Random) -> str:
    city = pick(rng, _CITY) if rng.random() < 0.5 else ""
    return city + pick(rng, _AG_PRE) + pick(rng, _AG_SUF)


def agency_short(name: str) -> str:
    for suf in _AG_SUF:
        if name.endswith(suf):
            return name[: -len(suf)]
    return name


def law_firm(rng: random.Random) -> str:
    pre = pick(rng, _CITY) if rng.random() < 0.4 else ""
    return pre + pick(rng, _FIRM_PRE) + "律师事务所"


def court(rng: random.Random) -> str:
    city = pick(rng, _CITY)
    r = rng.random()
    if r < 0.6:
        return city + "市" + pick(rng, _DISTRICT) + "区人民法院"
    if r < 0.85:
        return city + pick(rng, ["县", "市"]) + "人民法院"
    return city + "市中级人民法院"


def arbitration(rng: random.Random) -> str:
    return pick(rng, _CITY) + pick(rng, ["仲裁委员会", "市仲裁委员会", "仲裁委"])


def police(rng: random.Random) -> str:
    return (
        pick(rng, _CITY)
        + "市"
        + pick(rng, _DISTRICT)
        + pick(rng, ["分局", "派出所", "公安分局经侦大队", "刑侦大队"])
    )


def tail(rng: random.Random) -> str:
    return f"{rng.randrange(10000):04d}"


def hotline(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        return f"400-{rng.randrange(100, 1000)}-{rng.randrange(1000, 10000)}"
    if r < 0.55:
        return f"95{rng.randrange(100, 1000)}"
    if r < 0.8:
        return f"0{rng.choice([10, 20, 21, 23, 24, 27, 28, 29, 351, 371, 431, 551, 571, 591, 731, 755, 871])}-{rng.randrange(10000000, 100000000)}"
    return mobile(rng)


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice([3, 5, 7, 8, 9])}{rng.randrange(10)}{rng.randrange(10**8):08d}"


def masked_mobile(rng: random.Random) -> str:
    m = mobile(rng)
    return m[:3] + "****" + m[-4:]


def bank_account(rng: random.Random) -> str:
    return "62" + "".join(str(rng.randrange(10)) for _ in range(rng.choice([14, 17])))


def id_number(rng: random.Random) -> str:
    y = rng.randrange(1965, 2003)
    return f"{rng.randrange(110000, 660000)}{y}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}{rng.choice('0123456789X')}"


def address(rng: random.Random) -> str:
    return (
        pick(rng, _CITY)
        + "市"
        + pick(rng, _DISTRICT)
        + "区"
        + pick(rng, ["人民", "建设", "文化", "幸福", "胜利", "长江", "黄河", "朝阳", "青年"])
        + pick(rng, ["路", "街", "大道"])
        + f"{rng.randrange(1, 400)}号"
        + pick(
            rng,
            [
                "",
                f"{rng.randrange(1, 30)}栋{rng.randrange(1, 6)}单元{rng.randrange(1, 30)}0{rng.randrange(1, 5)}室",
                pick(rng, ["阳光", "锦绣", "翠苑", "金色", "和谐"])
                + pick(rng, ["花园", "家园", "小区", "公寓"])
                + f"{rng.randrange(1, 20)}号楼",
            ],
        )
    )


def wechat(rng: random.Random) -> str:
    letters = "abcdefghjkmnpqrstwxyz"
    base = "".join(rng.choice(letters) for _ in range(rng.randrange(2, 5)))
    return base + pick(rng, ["_", "", "-"]) + str(rng.randrange(10, 99999))


def qq(rng: random.Random) -> str:
    return str(rng.randrange(10**7, 10**10))


_TLD = [".cc", ".top", ".vip", ".xyz", ".cn", ".club", ".net", ".icu"]


def scam_link(rng: random.Random) -> str:
    host = "".join(rng.choice("abcdefghkmnpqrstwxyz") for _ in range(rng.randrange(3, 7)))
    path = "".join(rng.choice("abcdefghkmnpqrstwxyz0123456789") for _ in range(rng.randrange(2, 6)))
    return (
        pick(rng, ["http://", "https://", ""])
        + host
        + pick(rng, ["-pay", "-zx", "dk", "", "hk"])
        + pick(rng, _TLD)
        + "/"
        + path
    )


def official_link(rng: random.Random, cred: dict) -> str:
    return pick(rng, ["官网", "官方APP", "官方微信公众号", "手机银行", "网上银行", cred["app"]])


def case_no(rng: random.Random, year: int) -> str:
    prov = pick(rng, ["京", "沪", "浙", "粤", "苏", "川", "鲁", "豫", "湘", "鄂", "闽", "皖", "赣", "渝"])
    return f"({year}){prov}{rng.randrange(100, 10000):04d}{pick(rng, ['民初', '执', '民特', '财保', '诉前调'])}{rng.randrange(100, 30000)}号"


def staff_id(rng: random.Random) -> str:
    return str(rng.choice([rng.randrange(100, 10000), rng.randrange(10000, 999999)]))


def rate(rng: random.Random) -> str:
    return pick(
        rng, ["0.05%", "0.035%", "0.5‰", "24%", "18%", "1.5%", "5%", "0.065%", "36%", "7.2%", "万分之五"]
    )


def lawyer(rng: random.Random) -> str:
    return pick(rng, SURNAMES) + pick(rng, ["律师", "律师", "主任律师", "执业律师"])


def agent_name(rng: random.Random) -> str:
    return pick(rng, SURNAMES) + pick(
        rng, ["专员", "经理", "主管", "调解员", "客服", "老师", "工号" + staff_id(rng)]
    )


def employer(rng: random.Random) -> str:
    return (
        pick(rng, _CITY)
        + pick(rng, ["华", "盛", "博", "鑫", "联", "创", "润", "天"])
        + pick(rng, ["科技", "物流", "建材", "电子", "食品", "贸易", "机械", "医药", "教育"])
        + pick(rng, ["有限公司", "集团", "股份有限公司", "厂"])
    )
