namespace Lien.Server.Borrower;

/// <summary>
/// What the pay page, the USSD menu and the SMS keywords say to a borrower, in English and Swahili (<c>{0}</c> placeholders
/// are filled with values already formatted: amounts in the plan's currency, dates yyyy-MM-dd, masked numbers).
/// </summary>
internal sealed record BorrowerWords(
    string Lang, string PayTitle, string OwedNow, string NothingDueNow, string Why, string NextDue, string DaysLate, string Balance, string Schedule,
    string Installment, string DueOn, string Amount, string Paid, string HowToPay, string PaybillSteps, string PayNow, string PhoneLabel, string AmountLabel,
    string PayButton, string PinPrompt, string Waiting, string PaidDone, string Unlocked, string NotYetUnlocked, string Failed, string CodeTitle,
    string CodeHelp, string CodeButton, string CodeIs, string DisputeTitle, string DisputeHelp, string KindPaid, string KindOther, string ReferenceLabel,
    string TextLabel, string DisputeButton, string DisputeOpened, string DisputeAlreadyOpen, string Help, string Device, string RegisteredPhone,
    string PaidOffTitle, string NothingOwed, string BadPhone, string BadAmount, string TooMuch, string TooManyRequests, string PayByPaybill,
    string ProviderFailed, string TooManyCodes, string PayFirst, string NoCodes, string NoPhone, string CodeSent, string NoSms, string BadReference,
    string BadText, string CallbackNoted, string NotFound, string Expired, string TryAgain, string Language)
{
    public static readonly BorrowerWords English = new(
        "en", "Pay your phone", "To pay now", "Nothing is due now.", "Why", "Next installment", "{0} days late", "Balance of the loan", "Schedule",
        "Installment", "Due", "Amount", "Paid", "How to pay", "M-Pesa: Lipa na M-Pesa, Paybill {0}, account {1}.", "Pay now by M-Pesa",
        "M-Pesa phone number", "Amount ({0})", "Send the M-Pesa request", "Check your phone {0}: enter your M-Pesa PIN to pay.",
        "Waiting for your payment. This page refreshes by itself.", "Payment received: thank you.", "Your phone is unlocked.",
        "Your phone unlocks as soon as it is online. No data? Get an unlock code below.", "The payment did not go through: {0}",
        "Unlock code", "For a phone with no data: type this code on the lock screen.", "Get an unlock code",
        "Your unlock code is {0}. It works for {1} days. Type it on the lock screen.",
        "Something wrong?", "Tell us if you paid and it is not shown, or anything else. Your phone will not be locked while we look into it.",
        "I have paid", "Something else", "M-Pesa transaction code", "What happened", "Send", "Thank you: we are looking into it. Your phone will not lock before {0}.",
        "You already have an open dispute; we will answer it.", "Help", "Phone", "Registered number", "Paid off: thank you!",
        "There is nothing to pay on this plan.", "Give the phone number as +254712345678.", "Give an amount to pay.",
        "That is more than the balance of {0}.", "Too many payment requests: wait a few minutes, or pay by paybill.",
        "Pay by M-Pesa Paybill {0}, account {1}.", "M-Pesa could not take the request now; try again, or pay by paybill.",
        "Too many unlock codes today; call us if you need help.", "Pay {0} first; then you can get an unlock code.",
        "This phone takes no unlock codes; call us.", "This plan has no registered phone number; call us.",
        "We sent an unlock code by SMS to {0}.", "SMS is not available; call us.", "Give the M-Pesa transaction code (up to 64 letters and digits).",
        "Say what happened (up to 1000 characters).", "We will call you back on {0}.", "This link is not valid. Check the address on your phone's lock screen.",
        "The session has ended. Dial again.", "Please try again.", "Kiswahili");

    public static readonly BorrowerWords Swahili = new(
        "sw", "Lipia simu yako", "Kulipa sasa", "Hakuna kinachodaiwa sasa.", "Sababu", "Awamu inayofuata", "Siku {0} za kuchelewa", "Salio la mkopo", "Ratiba",
        "Awamu", "Tarehe", "Kiasi", "Imelipwa", "Jinsi ya kulipa", "M-Pesa: Lipa na M-Pesa, Paybill {0}, akaunti {1}.", "Lipa sasa kwa M-Pesa",
        "Nambari ya simu ya M-Pesa", "Kiasi ({0})", "Tuma ombi la M-Pesa", "Angalia simu yako {0}: weka PIN yako ya M-Pesa kulipa.",
        "Tunasubiri malipo yako. Ukurasa huu unajisasisha wenyewe.", "Malipo yamepokelewa: asante.", "Simu yako imefunguliwa.",
        "Simu yako itafunguka ikiwa mtandaoni. Huna data? Pata nambari ya kufungua hapa chini.", "Malipo hayakufaulu: {0}",
        "Nambari ya kufungua", "Kwa simu isiyo na data: andika nambari hii kwenye skrini iliyofungwa.", "Pata nambari ya kufungua",
        "Nambari yako ya kufungua ni {0}. Inafanya kazi kwa siku {1}. Iandike kwenye skrini iliyofungwa.",
        "Kuna tatizo?", "Tuambie kama ulilipa na haionekani, au jambo lingine. Simu yako haitafungwa tukishughulikia.",
        "Nimelipa", "Jambo lingine", "Nambari ya muamala wa M-Pesa", "Nini kilitokea", "Tuma", "Asante: tunashughulikia. Simu yako haitafungwa kabla ya {0}.",
        "Tayari una malalamiko yaliyo wazi; tutayajibu.", "Msaada", "Simu", "Nambari iliyosajiliwa", "Mkopo umelipwa wote: asante!",
        "Hakuna cha kulipa kwenye mpango huu.", "Andika nambari ya simu kama +254712345678.", "Andika kiasi cha kulipa.",
        "Hicho ni zaidi ya salio la {0}.", "Maombi mengi ya malipo: subiri dakika chache, au lipa kwa paybill.",
        "Lipa kwa M-Pesa Paybill {0}, akaunti {1}.", "M-Pesa haikuweza kupokea ombi sasa; jaribu tena, au lipa kwa paybill.",
        "Nambari nyingi za kufungua leo; tupigie ukihitaji msaada.", "Lipa {0} kwanza; kisha utapata nambari ya kufungua.",
        "Simu hii haipokei nambari za kufungua; tupigie.", "Mpango huu hauna nambari ya simu iliyosajiliwa; tupigie.",
        "Tumetuma nambari ya kufungua kwa SMS kwa {0}.", "SMS haipatikani; tupigie.", "Andika nambari ya muamala wa M-Pesa (hadi herufi 64).",
        "Eleza kilichotokea (hadi herufi 1000).", "Tutakupigia kwa {0}.", "Kiungo hiki si sahihi. Angalia anwani kwenye skrini ya simu yako.",
        "Kipindi kimeisha. Piga tena.", "Tafadhali jaribu tena.", "English");

    public static BorrowerWords For(string? language) => language == "sw" ? Swahili : English;
}
