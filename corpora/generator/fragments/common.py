"""Clauses shared by all channels: greetings, account references, overdue statements,
amounts by role, deadline requests, payment channels, contacts, lawful consequences,
conditional (non-raising) escalation, closings and opt-outs. Written in the polite
register (您); the rough register is derived by noise.rough."""

from . import L

GREET = L("""
<NAME>您好
尊敬的<NAME>
<NAME>，您好
尊敬的客户<NAME>
亲爱的<NAME>
<NAME>
尊敬的[用户|客户|持卡人|借款人]
[您好|你好]，<NAME>
<NAME>[先生/女士|]您好
致<NAME>
[早上好|下午好|您好]，这里是<CRED>
<NAME>[：|，]
尊敬的<CRED>[客户|用户|会员]
[您好|你好]
""")

# account reference + how overdue (must contain <OD>)
OVERDUE = L("""
您尾号<TAIL>的[信用卡|借记卡关联的信用卡|贷记卡]<OD>
您在<CRED>办理的<PROD><OD>
您名下[的|]<PROD>[账户|]<OD>
您于<LOANDATE>[在我司|通过<APP>][申请|借入|办理]的[借款|贷款|分期]<OD>
您的<APP>借款<OD>
您[在我行|在本行]的[信用卡|个人消费贷款]账户[目前|当前|截至今日]<OD>
您在<APP>的第<NUM>期账单<OD>
[系统显示|经核实|据系统记录]，您的[借款|账单|欠款]<OD>
您[尾号<TAIL>的|]<PROD>[自<ODSTART>起|]<OD>
您的[个人|]账户[已|]<OD>[，至今未还|，仍未结清|]
您[在|于]<CRED>的[消费分期|信用借款|现金借款]合同项下的款项<OD>
[查询|核查]发现，您名下编号尾号<TAIL>的[合同|借据]<OD>
您<OD>[，已严重违约|，已构成违约|，违反了借款合同约定|]
您的[欠款|借款|分期款]已经<OD>了
您的账单从<ODSTART>开始一直未还，现已<OD>
[截至今日|截至目前|到今天为止]，您的[借款|欠款]<OD>
您尾号<TAIL>的账户[因未按期还款|未按约定还款]，<OD>
关于您[在<CRED>|]的[<PROD>|借款]，目前<OD>
""")

# overdue statements without a day count (overdue_days null)
OVERDUE_VAGUE = L("""
您尾号<TAIL>的[信用卡|账户]已[经|]逾期[，请重视|]
您的<PROD>[已过还款日|已超过约定还款日|到期未还]
您在<APP>的借款已[经|]逾期[未还|多日]
您的[账单|借款][仍处于|目前处于]逾期状态
您名下的[借款|账户]尚有逾期款项未结清
您的账户已产生逾期[记录|]
您的[分期|借款]已过还款日[多日|一段时间|]仍未归还
您在<CRED>的账户存在[未结清|逾期]欠款
您[上期|本期]账单未按时还款，已逾期
""")

AMT = {
    "overdue_amount": L("""
逾期金额<AMT:overdue_amount>
欠款[金额|][为|共|]<AMT:overdue_amount>
当前[逾期|拖欠]金额[为|]<AMT:overdue_amount>
[尚欠|拖欠|仍欠]<AMT:overdue_amount>[未还|未归还|]
逾期本息[共计|合计|]<AMT:overdue_amount>
待还逾期款<AMT:overdue_amount>
[目前|现]欠款<AMT:overdue_amount>
[未还|逾期未还]本金<AMT:overdue_amount>
欠款本金[为|]<AMT:overdue_amount>
您还欠[我行|我司|平台]<AMT:overdue_amount>
逾期[应还|未还][款项|金额]<AMT:overdue_amount>
已逾期的<AMT:overdue_amount>[尚未归还|至今未还]
所欠款项<AMT:overdue_amount>
拖欠[的|]款项[共|]<AMT:overdue_amount>
账户逾期[欠款|余额]<AMT:overdue_amount>
[累计|合计]逾期<AMT:overdue_amount>
"""),
    "total_due": L("""
应还总额<AMT:total_due>
[全部|所有]欠款[合计|共计|]<AMT:total_due>
本息合计<AMT:total_due>
[结清|全部结清|一次性结清][需|需要|应还]<AMT:total_due>
截至<BALDATE>[，|]应还[本息|款项][合计|共计|]<AMT:total_due>
[含罚息在内|连本带息][共|共计|]<AMT:total_due>
剩余[应还|待还]总额<AMT:total_due>
全部应还金额<AMT:total_due>
结清[全部|]欠款[所需|]金额为<AMT:total_due>
[欠款|债务]总额<AMT:total_due>
本期应还[金额|总额]<AMT:total_due>
[账单|当期账单]金额<AMT:total_due>
"""),
    "minimum_payment": L("""
最低还款额<AMT:minimum_payment>
最低[还款|应还][金额|]<AMT:minimum_payment>
[至少|最少]需[先|]还<AMT:minimum_payment>
最低还款[为|]<AMT:minimum_payment>
可先[偿还|还]最低[还款额|金额]<AMT:minimum_payment>
[本期|当期]最低还<AMT:minimum_payment>
"""),
    "fee": L("""
[已产生|产生|另有|另产生]滞纳金<AMT:fee>
罚息<AMT:fee>
违约金<AMT:fee>
[逾期|]利息<AMT:fee>
[分期|]手续费<AMT:fee>
[另需支付|需另付|含]罚息<AMT:fee>
[逾期|]管理费<AMT:fee>
[复利|逾期罚息]累计<AMT:fee>
产生[逾期|]费用<AMT:fee>
[每日|]罚息[已累计|累计已达]<AMT:fee>
"""),
    "settlement": L("""
减免后[仅需|只需|需]还<AMT:settlement>
[经|]协商后[一次性|]结清金额为<AMT:settlement>
[可|能]按<AMT:settlement>一次性结清
[为您|已为您]申请[到|]减免，[结清|只需还]<AMT:settlement>
[特批|申请]优惠后还<AMT:settlement>即可结清
[协商|]还款方案：[一次性|]还<AMT:settlement>
[减免|免除]部分[罚息|利息]后[应还|需还]<AMT:settlement>
[折后|优惠后|减免后]结清价<AMT:settlement>
"""),
    "other": L("""
[原|]借款本金<AMT:other>
[您|][当初|最初]借[款|了]<AMT:other>
授信额度<AMT:other>
已还<AMT:other>
[上次|此前]还款<AMT:other>
"""),
}

# requests carrying a deadline
DEADLINE = L("""
请于<DL>[还款|还清|结清|完成还款|归还欠款|处理]
请[您|]在<DL>[还清欠款|还款|将欠款存入还款账户|处理逾期款项|完成还款]
务必于<DL>[还清|处理完毕|结清欠款|还款]
[请|麻烦您]<DL>[务必|]还款
限[您|]<DL>[还清|处理|结清全部欠款]
<DL>[必须|务必|需]还[清|款|上]
[请于|请在|]<DL>[联系我们|联系我司|回电]协商还款
[如|若]<DL>[未能|没能|仍未]还款，[将|]按合同约定处理
最晚<DL>[要|需|务必][还款|处理|存入]
[请|]在<DL>把钱[存到卡里|还上|存入还款账户]
[还款|最后]期限[为|是|：]<DL>
请[确保|务必确保]<DL>[账户余额充足|还款到账]
""")

DEADLINE_DUE = L("""
到期还款日[为|是|：]<DL:due>
还款日[为|：]<DL:due>
[本期账单|本期|账单]将于<DL:due>到期
[最后|]还款日期[为|：]<DL:due>
[您的借款|本期应还款项|该笔分期][将|]于<DL:due>到期
请在<DL:due>[之前|]按时还款
到期日<DL:due>
""")

PAY = L("""
请通过<APP>[“我的-还款”|首页“立即还款”|“账单”页面|内的还款入口][操作|还款|完成还款]
[可|请]通过[手机银行|网上银行|官方APP|柜台|自助终端]还款
请[登录|打开]<APP>[查看账单并|][还款|完成还款]
还款请认准[官方渠道|官方APP|我行官方渠道]
[您可以|可]通过[<APP>|手机银行|官方微信公众号]自助还款
请将款项存入您[本人|]尾号<TAIL>的还款账户
[可|也可以]到[我行|]任一网点柜台办理还款
请使用[本人|]名下银行卡[通过官方渠道|在APP内]还款
还款成功后系统[将|会]自动[更新|恢复]账户状态
[请|]通过[官方|正规]渠道还款，切勿[轻信他人|向他人转账]
[您可|]在<APP>[申请|办理][分期|延期|协商]还款
官方还款渠道：<APP>或[柜台|网银|手机银行]
""")

CONTACT = L("""
如有疑问[请|可]致电<PHONE>
[详询|咨询]<PHONE>
[如需协商|如有困难]请[致电|联系]<PHONE>
[请|]回电<PHONE>
客服热线<PHONE>
[如有异议|有任何问题][请|可]拨打[官方客服|客服电话]<PHONE>
联系[电话|方式]：<PHONE>
[专员|<AGENT>][电话|联系方式]<PHONE>
[请|]尽快[致电|联系]<AGENT>[，电话|]<PHONE>
[工作时间|工作日9:00-18:00]可拨打<PHONE>
""")

# lawful consequences and stern but lawful wording (no flags)
LAWFUL = L("""
逾期[记录|信息]将[如实|依法]报送[人民银行|]征信系统
逾期将[影响|损害]您的个人征信
[逾期|]期间将按合同约定[计收|收取]罚息
继续拖欠[将|会]产生更多[罚息|费用]
[欠款|逾期]将影响您[日后|今后]的贷款和信用卡申请
[我行|我司]保留依法追究[您|]违约责任的权利
请[您|]珍惜个人信用
[按时还款|守约还款]是每位借款人的义务
[欠款|借款]不会因拖延而消失
请勿[心存侥幸|一拖再拖]
逾期[信息|记录]可能[保留五年|在征信中保留5年]
请重视[此事|本通知|您的信用]
[本次|此条][为|是][最后一次|再次]提醒
[我们|我司]不接受[无理由的|无故]拖延
请[务必|]正视[您的|]欠款问题
[欠债还钱|借款还钱][天经地义|是基本的契约精神]
[诚信|守信]是立身之本，请[尽快|及时]处理
如[您|]对欠款有异议，可[通过官方渠道|依法]提出
""")

# conditional escalation: mentions a higher step without taking it (never raises stage)
COND = {
    "formal_demand": L("""
如仍未还款，[我行|我司]将[向您|]寄送[书面|正式]催收函
[否则|若继续拖欠，]将[发送|寄出]催款通知书
如[继续|持续]逾期，[不排除|可能]发出书面催告
"""),
    "lawyer_letter": L("""
如仍未处理，[您的|]账户[可能|将可能]移交法务部门
[否则|若仍拖欠，][不排除|可能]委托律师事务所处理
[逾期|拖欠]持续[的话|]，[我司|我行]可能[发送律师函|委托律师介入]
"""),
    "agency": L("""
[如|若]仍[不|未]还款，[您的案件|该笔欠款][可能|不排除|将可能]委托第三方机构[催收|处理]
[否则|若继续拖欠，][我行|我司]有权将[欠款|账户]委外催收
[继续|长期]逾期[可能|将可能]被转交[合作机构|第三方机构]
"""),
    "home_visit": L("""
[如|若]继续拖欠，[不排除|可能]安排[工作人员|外访人员]上门核实
[否则|逾期不处理，][我司|我行]可能[派员|安排人员][到您<PLACE>|实地]走访
[如|若]联系不上您，[可能|将可能]安排外访核实[情况|地址]
"""),
    "litigation": L("""
[否则|逾期未还的，|如仍未还款，][我行|我司|委托方]将[依法|]向[人民|]法院提起诉讼
[如|若]拒不还款，[不排除|保留]通过诉讼[途径|方式]解决[的权利|]
[否则|若继续违约，]将[依法|]申请仲裁[或提起诉讼|]
[届时|如进入诉讼程序，][由此产生的|]诉讼费、律师费[等|][将|可能]由您承担
[一旦|如]法院判决[后|生效后]仍不履行，[可能|将]被申请强制执行
[如果|若]走到起诉这一步，对[您|双方]都不好
"""),
}

VAGUE = L("""
否则[将|需][承担|自行承担][相应|一切][法律|]后果
[否则|逾期][将|][承担|面临]相应法律责任
[不排除|保留][采取|通过][法律|其他合法][手段|途径][的权利|]
[由此|因此]产生的[一切|]后果由您[本人|自行]承担
[请|]勿[因小失大|自误]
""")

HISTORY = L("""
[此前|之前|近期][我行|我司|我们]已[通过短信、电话|多次]提醒[您|]
[我们|我司]已多次[联系|致电]您[未果|均未接通|无人接听]
[您|]此前承诺的还款[未能|没有]兑现
[我们|我司]于<PAST>[已|][致电|联系]过您
[上次|<PAST>]您[答应|承诺]还款[，至今未见到账|，但至今未还]
[之前|<PAST>][给您|已给您]发过[提醒短信|账单通知]
""")

CLOSE = L("""
如已还款请忽略[本短信|本条信息|]
[感谢|谢谢]您的配合
[祝您生活愉快|祝您生活顺利|顺祝商祺]
如已[结清|处理]，请忽略
[期待|静候]您的[回复|回电|处理]
[谢谢|感谢]支持
[请|]勿回复本短信
[请|]您[知悉|周知]
[还款后|如已还款，]请[保留|保存好]还款凭证
[如已还款|已还款的]请勿重复还款
[我们|我司]愿意[与您协商|帮助您解决困难]
如[您|]有[还款|]困难，可[申请协商|联系我们协商方案]
""")

OPTOUT = L("""
拒收请回复R
退订回T
回T退订
退订回TD
回复TD退订
退订请回N
[回|]T退
""")

SIGN_SMS = L("""
【<CRED>】
【<CRED>信用卡中心】
【<CRED>贷后管理】
【<APP>】
【<CRED>客服】
【<CRED>风险管理部】
""")

SIGN_SMS_BY_STAGE = {
    "lawyer_letter": SIGN_SMS + L("""
【<FIRM>】
【<CRED>法务部】
"""),
    "agency": L("""
【<AGS>】
【<AGENCY>】
【<AGS>资产】
【<CRED>】
"""),
    "home_visit": SIGN_SMS + L("""
【<AGS>】
【<CRED>外访中心】
"""),
    "litigation": SIGN_SMS + L("""
【<FIRM>】
【<CRED>法务部】
"""),
}

# third party answering (stage-neutral); debtors' relatives speak as customer
NUM_WORDS = ["两", "三", "四", "五", "六", "七", "八", "十", "好几", "多"]
