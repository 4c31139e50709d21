"""What the demo's caseworkers write on their cases: summaries, notes, tasks and outcomes, per kind.

Plain working text with no names in it (a case's people are linked, not typed in); it is stored
encrypted like any caseworker's.
"""

from __future__ import annotations

SUMMARIES: dict[str, tuple[str, ...]] = {
    "domestic_abuse": (
        "Repeat domestic abuse by a current partner; victim engaging with support.",
        "Domestic abuse escalating over recent months; safety planning under way.",
        "Ex-partner continuing contact after separation; children in the household.",
    ),
    "stalking": (
        "Stalking by a known person: repeated unwanted contact and loitering near home.",
        "Online and in-person stalking; victim keeping a diary of contact.",
    ),
    "sexual_offence": (
        "Sexual offence reported; victim referred to the sexual assault referral centre.",
        "Non-recent sexual offence disclosed; support through the ISVA service.",
    ),
    "asb": (
        "Repeated anti-social behaviour targeting the victim's home.",
        "Neighbour dispute with noise and intimidation over several months.",
        "Youths gathering outside the victim's address; verbal abuse and damage.",
    ),
    "serious_violence": (
        "Victim of serious violence; follow-up under the serious violence duty.",
        "Assault with injury in the night-time economy; victim support offered.",
    ),
    "rural_crime": (
        "Rural crime at a farm: thefts of equipment and damage to property.",
        "Repeated offences at an isolated rural property; crime prevention advice given.",
    ),
    "fraud": (
        "Older victim of a telephone scam; money lost and further contact from scammers.",
        "Doorstep fraud against a vulnerable resident; Trading Standards informed.",
    ),
}

NOTES: dict[str, tuple[str, ...]] = {
    "domestic_abuse": (
        "Spoke to the victim on the safe number. Safety plan reviewed; no contact since the last incident.",
        "DASH checklist completed with the victim; professional judgement considered.",
        "Victim attended the IDVA appointment and agreed to further support.",
        "Perpetrator bailed with conditions not to contact the victim.",
    ),
    "stalking": (
        "Victim reports further messages from a new account. Screenshots kept.",
        "Stalking protection order discussed with the police lead.",
        "Home security visit arranged; victim given a personal alarm.",
    ),
    "sexual_offence": (
        "Victim supported to attend the referral centre. Consent to share recorded.",
        "ISVA allocated; victim updated on the investigation.",
        "Victim asked for contact by email only for now.",
    ),
    "asb": (
        "Visited the victim; diary sheets handed over and explained.",
        "Warning letter sent to the household concerned.",
        "Discussed at the community safety tasking meeting; patrols increased.",
        "Victim reports things quieter since the last visit.",
    ),
    "serious_violence": (
        "Victim contacted after discharge from hospital. Support offered and accepted.",
        "Information shared with the violence reduction partnership.",
        "Victim declined further contact at present; door left open.",
    ),
    "rural_crime": (
        "Visited the site with the rural crime team. Security marking of equipment offered.",
        "Landowner given advice on gates and lighting.",
        "Neighbouring farms alerted through the rural watch scheme.",
    ),
    "fraud": (
        "Visited the victim at home with a Trading Standards officer. Call blocker offered.",
        "Bank contacted with the victim's consent; account protected.",
        "Family member now helping the victim with post and calls.",
    ),
}

TASKS: dict[str, tuple[str, ...]] = {
    "domestic_abuse": ("Review the safety plan with the victim", "Check the bail conditions",
                       "Prepare for the HRDA meeting"),
    "stalking": ("Chase the stalking protection order", "Follow up the home security visit"),
    "sexual_offence": ("Check in with the ISVA", "Update the victim on the investigation"),
    "asb": ("Collect the diary sheets", "Arrange a joint visit with housing", "Review at tasking"),
    "serious_violence": ("Follow up with the victim", "Share with the violence reduction partnership"),
    "rural_crime": ("Arrange equipment marking", "Follow up with the rural crime team"),
    "fraud": ("Fit the call blocker", "Follow up with the victim's bank"),
}

OUTCOMES: dict[str, tuple[str, ...]] = {
    "domestic_abuse": ("Victim safe and supported; no further incidents reported.",
                       "Victim moved to a new address with support; case closed by agreement."),
    "stalking": ("Stalking protection order granted; contact has stopped.",
                 "No further contact for three months; victim content to close."),
    "sexual_offence": ("Victim supported through to the end of the investigation.",
                       "Victim chose to close the case; support offered if needed."),
    "asb": ("Behaviour stopped after the warning; victim satisfied.",
            "Acceptable behaviour contract signed; no further reports."),
    "serious_violence": ("Victim recovered and no longer wants support.",
                         "Victim supported; offender charged."),
    "rural_crime": ("Security improved; no further offences at the site.",
                    "Offenders identified and dealt with."),
    "fraud": ("Money partly recovered; call blocker fitted and working.",
              "Victim protected from further contact; family now involved."),
}
