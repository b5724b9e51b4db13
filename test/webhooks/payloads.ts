/**
 * Webhook bodies as the providers send them, for the parser tests and for replaying against the
 * HTTP receivers. Every export is the raw body string (what a signature covers), plus the
 * Content-Type it travels with where that matters.
 *
 * - Meta: the Cloud API's documented shapes (object/entry/changes/value), with concrete ids.
 * - contacto-multichat: the manual's "Webhook (POST)" examples (contacto-multichat's API manual). They are
 *   printed without colons and with typographic quotes, so they are kept twice: verbatim, and
 *   transcribed to JSON with the fewest changes (colons and straight quotes restored, "xxxx"
 *   placeholders filled with concrete values, "&messageId" and " sent" kept as printed).
 * - Optiwe: only the envelope {timestamp, version, type, payload} and the NEW_CONVERSATION body
 *   are documented (Optiwe's "Notificaciones por webhook" page). The failed
 *   outbound and new message bodies follow that nesting with the field names of Optiwe's send
 *   API; they are the engine's reading, not a copy (see src/providers/optiwe/webhook.ts).
 */

// --- Meta Cloud API -------------------------------------------------------------------------

export const META_WABA_ID = '102290129340398';
export const META_PHONE_NUMBER_ID = '106540352242922';
/** The template message the status set and the button tap are about. */
export const META_WAMID = 'wamid.HBgNNTIxNTUxMjM0NTY3OBUCABEYEjdCMEFCRjU4RTJBNDRGMzYzMQA=';
/** The recipient's wa_id: Mexico keeps the old mobile 1 (the engine sent to +525512345678). */
export const META_WA_ID = '5215512345678';
/**
 * When the status set starts: half an hour before the test run, so the bodies fall inside the
 * receivers' replay windows (Meta 7 days, Optiwe an hour). Every other Meta time is an offset of it.
 */
export const META_SENT_AT = Math.floor(Date.now() / 1000) - 1_800;
/** The Optiwe envelopes' own stamp: when Optiwe sent the request. */
export const OPTIWE_STAMP = META_SENT_AT + 30;

function metaBody(value: Record<string, unknown>, field = 'messages'): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: META_WABA_ID,
        changes: [
          {
            value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: META_PHONE_NUMBER_ID }, ...value },
            field,
          },
        ],
      },
    ],
  });
}

const pricing = { billable: true, pricing_model: 'PMP', category: 'marketing', type: 'regular' };

export const META_STATUS_SENT = metaBody({
  statuses: [
    {
      id: META_WAMID,
      status: 'sent',
      timestamp: String(META_SENT_AT),
      recipient_id: META_WA_ID,
      conversation: { id: 'c6b4e2f0a1d9b3e7f6a2c8d4e0b1a3f5', expiration_timestamp: String(META_SENT_AT + 86_400), origin: { type: 'marketing' } },
      pricing,
    },
  ],
});

export const META_STATUS_DELIVERED = metaBody({
  statuses: [{ id: META_WAMID, status: 'delivered', timestamp: String(META_SENT_AT + 4), recipient_id: META_WA_ID, pricing }],
});

export const META_STATUS_READ = metaBody({
  statuses: [{ id: META_WAMID, status: 'read', timestamp: String(META_SENT_AT + 65), recipient_id: META_WA_ID }],
});

/** The same message failing after all (131026: undeliverable). */
export const META_STATUS_FAILED = metaBody({
  statuses: [
    {
      id: META_WAMID,
      status: 'failed',
      timestamp: String(META_SENT_AT + 5),
      recipient_id: META_WA_ID,
      errors: [
        {
          code: 131026,
          title: 'Message undeliverable',
          message: 'Message undeliverable',
          error_data: { details: 'Message Undeliverable.' },
          href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
        },
      ],
    },
  ],
});

export const META_STATUS_SET = [META_STATUS_SENT, META_STATUS_DELIVERED, META_STATUS_READ, META_STATUS_FAILED] as const;

/** A marketing template to a user who stopped marketing messages from the business. */
export const META_OPTED_OUT_WAMID = 'wamid.HBgMNTczMDAyMjIyMjIyFQIAERgSQzNCQjQ1RjZBMjc4OTBFMTIzAA==';
export const META_STATUS_FAILED_131050 = metaBody({
  statuses: [
    {
      id: META_OPTED_OUT_WAMID,
      status: 'failed',
      timestamp: String(META_SENT_AT + 100),
      recipient_id: '573002222222',
      errors: [
        {
          code: 131050,
          title: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
          message: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
          error_data: { details: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business' },
        },
      ],
    },
  ],
});

export const META_TEXT_REPLY_ID = 'wamid.HBgNNTIxNTUxMjM0NTY3OBUCABIYFjNFQjBDNzk5RTM4MDRCRDlCNjRFRTYA';
export const META_TEXT_REPLY = metaBody({
  contacts: [{ profile: { name: 'Lucía Hernández' }, wa_id: META_WA_ID }],
  messages: [{ from: META_WA_ID, id: META_TEXT_REPLY_ID, timestamp: String(META_SENT_AT + 200), type: 'text', text: { body: 'Hola, ¿hasta cuándo es la promoción?' } }],
});

/** A tap on the template's quick-reply button: `type: "button"`, `context.id` is the template's wamid. */
export const META_BUTTON_REPLY_ID = 'wamid.HBgNNTIxNTUxMjM0NTY3OBUCABIYFjNFQjA5OEIyQTY1MDc4RjQ0QjA5NUEA';
export const META_BUTTON_REPLY = metaBody({
  contacts: [{ profile: { name: 'Lucía Hernández' }, wa_id: META_WA_ID }],
  messages: [
    {
      context: { from: '15550783881', id: META_WAMID },
      from: META_WA_ID,
      id: META_BUTTON_REPLY_ID,
      timestamp: String(META_SENT_AT + 260),
      type: 'button',
      button: { payload: 'STOP_PROMOS', text: 'Dejar de recibir' },
    },
  ],
});

/** An interactive reply button (session message), answered. */
export const META_INTERACTIVE_REPLY = metaBody({
  contacts: [{ profile: { name: 'Lucía Hernández' }, wa_id: META_WA_ID }],
  messages: [
    {
      context: { from: '15550783881', id: 'wamid.HBgNNTIxNTUxMjM0NTY3OBUCABEYEkFBQkJDQ0RERUVGRjAwMTEyMgA=' },
      from: META_WA_ID,
      id: 'wamid.HBgNNTIxNTUxMjM0NTY3OBUCABIYFjNFQjBGRkVFRERDQ0JCQUE5OTg4NzcA',
      timestamp: String(META_SENT_AT + 300),
      type: 'interactive',
      interactive: { type: 'button_reply', button_reply: { id: 'confirm-yes', title: 'Sí, confirmo' } },
    },
  ],
});

/** A photo with a caption, and a voice note (no text at all). */
export const META_MEDIA_REPLIES = metaBody({
  contacts: [{ profile: { name: 'Lucía Hernández' }, wa_id: META_WA_ID }],
  messages: [
    {
      from: META_WA_ID,
      id: 'wamid.HBgNNTIxNTUxMjM0NTY3OBUCABIYFjNFQjAxMTExMTExMTExMTExMTExMTEA',
      timestamp: String(META_SENT_AT + 400),
      type: 'image',
      image: { caption: 'Este es mi recibo', mime_type: 'image/jpeg', sha256: 'k6hVn0Fq3rJ0HvYkX0pPz4C1RkXr1w5n3iY3kVt6wIQ=', id: '1038405867290210' },
    },
    {
      from: META_WA_ID,
      id: 'wamid.HBgNNTIxNTUxMjM0NTY3OBUCABIYFjNFQjAyMjIyMjIyMjIyMjIyMjIyMjIA',
      timestamp: String(META_SENT_AT + 410),
      type: 'audio',
      audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 'Zq8mX1c7lJ3aC0pB9dY8rT2uV5wE4sH6gK7fN1oM0QI=', id: '1177412859930128', voice: true },
    },
  ],
});

/** A change the engine does not subscribe to: a template's review outcome. */
export const META_TEMPLATE_STATUS_UPDATE = JSON.stringify({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: META_WABA_ID,
      time: 1741947800,
      changes: [
        {
          value: { event: 'APPROVED', message_template_id: 1689556908129832, message_template_name: 'promo_marzo', message_template_language: 'es', reason: 'NONE' },
          field: 'message_template_status_update',
        },
      ],
    },
  ],
});

// --- contacto-multichat ------------------------------------------------------------------------

/**
 * The manual's five examples, character for character (they are not valid JSON): its
 * indentation is no-break spaces (\u00a0) and two of its quotes are typographic (\u201c \u201d).
 */
export const MULTICHAT_MANUAL_VERBATIM = {
  failed:
    "{\n\n\u00a0\u00a0\u00a0\u00a0\"type\"\u201cmessage-event\u201d,\n\n\u00a0\u00a0\u00a0\u00a0\"type2\"\"failed\",\n\n\u00a0\u00a0\u00a0\u00a0\"code\"\"xxxx\",\n\n\u00a0\u00a0\u00a0\u00a0\"reason\"\"xxxxx\",\n\n\u00a0\u00a0\u00a0 \"messageId\"\"xxxx\"\n\n}",
  sent:
    "{\n\n\u00a0\u00a0\u00a0\u00a0\"type\"message-event,\n\n\u00a0\u00a0\u00a0\u00a0\"type2\"\" sent\",\n\n\u00a0\u00a0\u00a0\u00a0\"messageId_whatsapp\"\"xxxx\",\n\n\u00a0\u00a0\u00a0\u00a0\"fecha_envio_por_whatsapp\"\"xxxxx\",\n\n\u00a0\u00a0\u00a0 \"&messageId\"\"xxxx\"\n\n}",
  delivered:
    "{\n\n\u00a0\u00a0\u00a0\u00a0\"type\"\u201cmessage-event\u201d,\n\n\u00a0\u00a0\u00a0\u00a0\"type2\"\" delivered\",\n\n\u00a0\u00a0\u00a0\u00a0\"messageId_whatsapp\"\"xxxx\",\n\n\u00a0\u00a0\u00a0\u00a0\"fecha_envio_por_whatsapp\"\"xxxxx\",\n\n\u00a0\u00a0\u00a0 \"&messageId\"\"xxxx\"\n\n}",
  read:
    "{\n\n\u00a0\u00a0\u00a0\u00a0\"type\"\u201cmessage-event\u201d,\n\n\u00a0\u00a0\u00a0\u00a0\"type2\"\" read\",\n\n\u00a0\u00a0\u00a0\u00a0\"messageId_whatsapp\"\"xxxx\",\n\n\u00a0\u00a0\u00a0\u00a0\"fecha_lectura_usuario\"\"xxxxx\",\n\n\u00a0\u00a0\u00a0 \"&messageId\"\"xxxx\"\n\n}",
  reply:
    "{\n\n\u00a0\u00a0\u00a0\u00a0\"mobile\"\"573002222222\",\n\n\u00a0\u00a0\u00a0\u00a0\"message\"\"Hola, respondiendo mensaje desde el whatsapp\",\n\n\u00a0\u00a0\u00a0\u00a0\"custom_field\"\"1020-3040-5060-7089\",\n\n\u00a0\u00a0\u00a0\u00a0\"official_number\"\"573005202020\"\n\n\u00a0\n\n}",
} as const;

/** contacto-multichat's own id of the message (the `messageId` of the manual's events). */
export const MULTICHAT_MESSAGE_ID = '48213377';
export const MULTICHAT_WAMID = 'wamid.HBgMNTczMDAyMjIyMjIyFQIAERgSMDg3QTZGMTk4QjM1NEJGQTBEAA==';

/** The manual's failure example; code 132015 is "La plantilla pausada por meta". */
export const MULTICHAT_FAILED = `{
    "type": "message-event",
    "type2": "failed",
    "code": "132015",
    "reason": "La plantilla pausada por meta",
    "messageId": "${MULTICHAT_MESSAGE_ID}"
}`;

export const MULTICHAT_SENT = `{
    "type": "message-event",
    "type2": " sent",
    "messageId_whatsapp": "${MULTICHAT_WAMID}",
    "fecha_envio_por_whatsapp": "2025-03-14 05:15:00",
    "&messageId": "${MULTICHAT_MESSAGE_ID}"
}`;

export const MULTICHAT_DELIVERED = `{
    "type": "message-event",
    "type2": " delivered",
    "messageId_whatsapp": "${MULTICHAT_WAMID}",
    "fecha_envio_por_whatsapp": "2025-03-14 05:15:04",
    "&messageId": "${MULTICHAT_MESSAGE_ID}"
}`;

export const MULTICHAT_READ = `{
    "type": "message-event",
    "type2": " read",
    "messageId_whatsapp": "${MULTICHAT_WAMID}",
    "fecha_lectura_usuario": "2025-03-14 05:16:05",
    "&messageId": "${MULTICHAT_MESSAGE_ID}"
}`;

/** The manual's reply example, values as printed. */
export const MULTICHAT_REPLY = `{
    "mobile": "573002222222",
    "message": "Hola, respondiendo mensaje desde el whatsapp",
    "custom_field": "1020-3040-5060-7089",
    "official_number": "573005202020"
}`;

/** The same reply form-encoded, the other encoding the receiver accepts. */
export const MULTICHAT_REPLY_FORM = new URLSearchParams({
  mobile: '573002222222',
  message: 'Hola, respondiendo mensaje desde el whatsapp',
  custom_field: '1020-3040-5060-7089',
  official_number: '573005202020',
}).toString();

/** A failure form-encoded, with the manual's "471 – 131048" pair (spam). */
export const MULTICHAT_FAILED_FORM = new URLSearchParams({
  type: 'message-event',
  type2: 'failed',
  code: '471 - 131048',
  reason: 'error mensaje spam',
  messageId: MULTICHAT_MESSAGE_ID,
}).toString();

export const JSON_CONTENT_TYPE = 'application/json';
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

// --- Optiwe ----------------------------------------------------------------------------------

/** A single send to +54 11 5517 4499 refused after the 201 because the customer opted out. */
export const OPTIWE_FAILED_OUTBOUND = JSON.stringify({
  timestamp: OPTIWE_STAMP,
  version: 1,
  type: 'WHATSAPP_OUTBOUND_EVENT',
  payload: {
    type: 'OUTBOUND_MESSAGE_FAILED',
    payload: {
      customerPhone: '1155174499',
      customerCountryCode: '+54',
      messagePayload: { text: 'Hola Diego, queremos recordarle que para el día de hoy a las 15:30 tiene un turno en Centro Medico Deragopyan.' },
      error: { key: 'CUSTOMER_OPTED_OUT', message: 'Message will not be sent because the customer has opted out for outbound messages' },
    },
  },
});

/** A customer's WhatsApp text, inside the conversation envelope of Optiwe's help page. */
export const OPTIWE_NEW_MESSAGE = JSON.stringify({
  timestamp: OPTIWE_STAMP,
  version: 1,
  type: 'CONVERSATION_EVENT',
  payload: {
    type: 'NEW_MESSAGE',
    payload: {
      conversation: {
        id: 90412,
        customer: {
          id: 5531,
          fullName: 'Diego Optiwe',
          name: 'Diego',
          email: 'diego@email.com',
          phone: '+541155174499',
          createdOn: '2025-03-01T12:00:00.000000Z',
          updatedOn: '2025-03-14T10:20:00.000000Z',
          lastActivity: '2025-03-14T10:20:00.000000Z',
          extraData: {},
          hasWhatsappOptIn: true,
        },
        customerChannel: { type: 'WHATSAPP' },
      },
      message: { id: 771203, type: 'TEXT', text: 'No quiero más, gracias', createdOn: '2025-03-14T10:20:00.000000Z' },
    },
  },
});

/** Documented, and of no interest to the engine. */
export const OPTIWE_NEW_CONVERSATION = JSON.stringify({
  timestamp: OPTIWE_STAMP,
  version: 1,
  type: 'CONVERSATION_EVENT',
  payload: {
    type: 'NEW_CONVERSATION',
    payload: {
      conversation: {
        id: 90412,
        customer: { id: 5531, fullName: 'Diego Optiwe', name: 'Diego', email: null, phone: '+541155174499', extraData: {}, hasWhatsappOptIn: true },
        customerChannel: { type: 'WHATSAPP' },
      },
    },
  },
});
