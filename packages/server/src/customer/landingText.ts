/**
 * The landing page's words in its four languages (platform-guidelines §11: English by default,
 * Danish, Finnish, Norwegian). Only the landing page is translated; the app simulator is English.
 */
export const languages = { en: 'English', da: 'Dansk', fi: 'Suomi', nb: 'Norsk' } as const;
export type Language = keyof typeof languages;

const en = {
  title: 'Pay with Kassa',
  payTo: 'Payment to',
  amount: 'Amount',
  phoneLabel: 'Your mobile number',
  phoneHint: 'With country code, for example 4791234567. We send the payment request to the app on that phone.',
  remember: 'Remember me in this browser',
  next: 'Next',
  openApp: 'Open the app on this device',
  cancel: 'Cancel payment',
  language: 'Language',
  change: 'Change',
  waitTitle: 'Go to the app',
  waitSent: 'We sent the payment request to',
  waitConfirm: 'Open the app and confirm the payment. This page moves on by itself when you are done.',
  timeLeft: 'Time left',
  bankPending: 'You approved the payment. Your bank has not answered yet; this page moves on by itself when it does.',
  changeNumber: 'Use another number',
  cannotPay: 'This number cannot pay this business with the app. Check the number, or pay in another way.',
  invalidPhone: 'Enter a mobile number with country code: 9 to 15 digits, for example 4791234567.',
  unknownTitle: 'Payment link not found',
  unknownText: 'This payment link is not valid. Go back to the shop and start the payment again.',
  expiredTitle: 'The payment has expired',
  expiredText: 'The time to pay ran out. Go back to the shop to try again.',
  abortedTitle: 'The payment was cancelled',
  abortedText: 'Nothing was paid. Go back to the shop to try again.',
  doneTitle: 'The payment is complete',
  doneText: 'You have already answered this payment request.',
  backToShop: 'Back to',
  framingNote: 'Kassa test environment',
};

export type Texts = typeof en;

const nb: Texts = {
  title: 'Betal med Kassa',
  payTo: 'Betaling til',
  amount: 'Beløp',
  phoneLabel: 'Ditt mobilnummer',
  phoneHint: 'Med landskode, for eksempel 4791234567. Vi sender betalingsforespørselen til appen på den telefonen.',
  remember: 'Husk meg i denne nettleseren',
  next: 'Neste',
  openApp: 'Åpne appen på denne enheten',
  cancel: 'Avbryt betalingen',
  language: 'Språk',
  change: 'Bytt',
  waitTitle: 'Gå til appen',
  waitSent: 'Vi sendte betalingsforespørselen til',
  waitConfirm: 'Åpne appen og bekreft betalingen. Denne siden går videre av seg selv når du er ferdig.',
  timeLeft: 'Tid igjen',
  bankPending: 'Du har godkjent betalingen. Banken din har ikke svart ennå; denne siden går videre av seg selv når den gjør det.',
  changeNumber: 'Bruk et annet nummer',
  cannotPay: 'Dette nummeret kan ikke betale denne bedriften med appen. Sjekk nummeret, eller betal på en annen måte.',
  invalidPhone: 'Skriv et mobilnummer med landskode: 9 til 15 sifre, for eksempel 4791234567.',
  unknownTitle: 'Fant ikke betalingslenken',
  unknownText: 'Denne betalingslenken er ikke gyldig. Gå tilbake til butikken og start betalingen på nytt.',
  expiredTitle: 'Betalingen er utløpt',
  expiredText: 'Tiden for å betale gikk ut. Gå tilbake til butikken for å prøve igjen.',
  abortedTitle: 'Betalingen ble avbrutt',
  abortedText: 'Ingenting ble betalt. Gå tilbake til butikken for å prøve igjen.',
  doneTitle: 'Betalingen er fullført',
  doneText: 'Du har allerede svart på denne betalingsforespørselen.',
  backToShop: 'Tilbake til',
  framingNote: 'Kassa testmiljø',
};

const da: Texts = {
  title: 'Betal med Kassa',
  payTo: 'Betaling til',
  amount: 'Beløb',
  phoneLabel: 'Dit mobilnummer',
  phoneHint: 'Med landekode, for eksempel 4511223344. Vi sender betalingsanmodningen til appen på den telefon.',
  remember: 'Husk mig i denne browser',
  next: 'Næste',
  openApp: 'Åbn appen på denne enhed',
  cancel: 'Annuller betalingen',
  language: 'Sprog',
  change: 'Skift',
  waitTitle: 'Gå til appen',
  waitSent: 'Vi sendte betalingsanmodningen til',
  waitConfirm: 'Åbn appen og godkend betalingen. Denne side går videre af sig selv, når du er færdig.',
  timeLeft: 'Tid tilbage',
  bankPending: 'Du har godkendt betalingen. Din bank har ikke svaret endnu; denne side går videre af sig selv, når den gør det.',
  changeNumber: 'Brug et andet nummer',
  cannotPay: 'Dette nummer kan ikke betale denne virksomhed med appen. Tjek nummeret, eller betal på en anden måde.',
  invalidPhone: 'Skriv et mobilnummer med landekode: 9 til 15 cifre, for eksempel 4511223344.',
  unknownTitle: 'Betalingslinket blev ikke fundet',
  unknownText: 'Dette betalingslink er ikke gyldigt. Gå tilbage til butikken og start betalingen igen.',
  expiredTitle: 'Betalingen er udløbet',
  expiredText: 'Tiden til at betale løb ud. Gå tilbage til butikken for at prøve igen.',
  abortedTitle: 'Betalingen blev annulleret',
  abortedText: 'Der blev ikke betalt noget. Gå tilbage til butikken for at prøve igen.',
  doneTitle: 'Betalingen er gennemført',
  doneText: 'Du har allerede svaret på denne betalingsanmodning.',
  backToShop: 'Tilbage til',
  framingNote: 'Kassa testmiljø',
};

const fi: Texts = {
  title: 'Maksa Kassalla',
  payTo: 'Maksun saaja',
  amount: 'Summa',
  phoneLabel: 'Matkapuhelinnumerosi',
  phoneHint: 'Maatunnuksen kanssa, esimerkiksi 358401234567. Lähetämme maksupyynnön sen puhelimen sovellukseen.',
  remember: 'Muista minut tässä selaimessa',
  next: 'Seuraava',
  openApp: 'Avaa sovellus tällä laitteella',
  cancel: 'Peruuta maksu',
  language: 'Kieli',
  change: 'Vaihda',
  waitTitle: 'Siirry sovellukseen',
  waitSent: 'Lähetimme maksupyynnön numeroon',
  waitConfirm: 'Avaa sovellus ja vahvista maksu. Tämä sivu jatkaa itsestään, kun olet valmis.',
  timeLeft: 'Aikaa jäljellä',
  bankPending: 'Hyväksyit maksun. Pankkisi ei ole vielä vastannut; tämä sivu jatkaa itsestään, kun se vastaa.',
  changeNumber: 'Käytä toista numeroa',
  cannotPay: 'Tällä numerolla ei voi maksaa tälle yritykselle sovelluksella. Tarkista numero tai maksa muulla tavalla.',
  invalidPhone: 'Anna matkapuhelinnumero maatunnuksen kanssa: 9–15 numeroa, esimerkiksi 358401234567.',
  unknownTitle: 'Maksulinkkiä ei löytynyt',
  unknownText: 'Tämä maksulinkki ei ole voimassa. Palaa kauppaan ja aloita maksu uudelleen.',
  expiredTitle: 'Maksu on vanhentunut',
  expiredText: 'Maksuaika päättyi. Palaa kauppaan yrittääksesi uudelleen.',
  abortedTitle: 'Maksu peruttiin',
  abortedText: 'Mitään ei maksettu. Palaa kauppaan yrittääksesi uudelleen.',
  doneTitle: 'Maksu on valmis',
  doneText: 'Olet jo vastannut tähän maksupyyntöön.',
  backToShop: 'Takaisin:',
  framingNote: 'Kassa-testiympäristö',
};

const texts: Record<Language, Texts> = { en, nb, da, fi };

export function languageOf(value: string | undefined): Language {
  return value && value in languages ? (value as Language) : 'en';
}

export function textsFor(language: Language): Texts {
  return texts[language];
}
