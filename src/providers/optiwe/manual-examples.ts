/**
 * Every request and response example of Optiwe's manual ("Manejo y envío de plantillas de
 * WhatsApp"), kept beside the adapter as its spec.
 *
 * Bodies the manual prints as valid JSON are copied character for character. Where it prints
 * pseudo-JSON (comments, `int`, `"ENGLISH" | "SPANISH"`, `...`), the transcription picks one
 * concrete value and says so; nothing else is changed.
 */

// --- Template creation: POST /whatsapp-templates/ -----------------------------------------

/** Plain text template. `"language": "ENGLISH" | "SPANISH"` transcribed as SPANISH. */
export const CREATE_TEXT_REQUEST = {
  key: 'reminder',
  name: 'reminder',
  text: 'Hola {{1}}, queremos recordarle que para el día de hoy a las {{2}} tiene un turno en {{3}}.',
  example: 'Hola Bob, queremos recordarle que para el día de hoy a las 14:00 tiene un turno en Clinica 2',
  category: 'UTILITY',
  templateType: 'TEXT',
  language: 'SPANISH',
} as const;

/** Call-to-action buttons: one URL and one PHONE_NUMBER, in the order the manual lists them. */
export const CREATE_CALL_TO_ACTION_REQUEST = {
  key: 'reminder',
  name: 'reminder',
  text: 'Hola {{1}}. Puedes llamarnos o vistar nuestra web para responder a tu consulta',
  example: 'Hola Bob. Puedes llamarnos o vistar nuestra web para responder a tu consulta',
  category: 'UTILITY',
  templateType: 'TEXT',
  language: 'SPANISH',
  buttons: [
    { type: 'URL', text: 'Nuestra web', url: 'https://example.com/{{1}}', urlExample: 'https://example.com/Bob' },
    { type: 'PHONE_NUMBER', text: 'Llamanos', phoneNumber: '543424010203' },
  ],
} as const;

/** Quick-reply buttons. The manual's stray `url` on a QUICK_REPLY button is kept as printed. */
export const CREATE_QUICK_REPLY_REQUEST = {
  key: 'reminder',
  name: 'reminder',
  text: 'Hola. Responde este mensaje para actualizar tu consulta',
  example: 'Hola. Responde este mensaje para actualizar tu consulta',
  category: 'UTILITY',
  templateType: 'TEXT',
  language: 'SPANISH',
  buttons: [{ type: 'QUICK_REPLY', text: 'Responder', url: 'https://example.com' }],
} as const;

/** 201 CREATED. `"id": int` transcribed as 76; `"SPANISH" | "ENGLISH"` as SPANISH; comment dropped. */
export const CREATE_201_BODY = `{
    "id": 76,
    "key": "reminder",
    "name": "reminder",
    "text" : "Hola {{1}}, queremos recordarle que para el día de hoy a las {{2}} tiene un turno en {{3}}.",
    "createdOn": "2023-10-06T13:41:54.746652Z",
    "updatedOn": "2023-10-06T13:41:54.746652Z",
    "status": "IN_REVIEW",
    "category": "MARKETING",
    "templateType": "TEXT",
    "language": "SPANISH",
    "buttons" : [
        {
            "type":"PHONE_NUMBER",
            "text":"Llamanos",
            "phoneNumber":"543424010203"
        },
        {
            "type":"URL",
            "text":"Nuestra web",
            "url":"https://example.com/{{1}}",
            "urlExample":"https://example.com/bob/"
        }
    ]
}`;

export const TEMPLATE_ALREADY_EXISTS_400_BODY = `{
    "error": {
        "key": "TEMPLATE_ALREADY_EXISTS",
        "message": "The template already exists."
    }
}`;

export const NOT_AUTHENTICATED_401_BODY = `{
    "error": {
        "key": "NOT_AUTHENTICATED",
        "message": ""
    }
}`;

export const BAD_REQUEST_BODY_BUTTONS_400_BODY = `{
    "error": {
        "key": "BAD_REQUEST_BODY",
        "message": "Validation error",
        "details": {
            "buttons": "Buttons length must be greater than 0 and up to 3 buttons"
        }
    }
}`;

export const BAD_REQUEST_BODY_NAME_400_BODY = `{
    "error": {
        "key": "BAD_REQUEST_BODY",
        "message": "Validation error",
        "details": {
            "name": "Key and name are only allowed to have small letters, numbers and underscore. Found: N"
        }
    }
}`;

// --- Template list: GET /whatsapp-templates/ ------------------------------------------------

/** 200 OK, verbatim (note the trailing space in "Nuestra web "). */
export const LIST_200_BODY = `{
    "templates": [{
            "id": 75,
            "key": "plantilla_1",
            "name": "plantilla_1",
            "text": "Hola",
            "createdOn": "2023-08-18T17:47:18.031649Z",
            "updatedOn": "2023-08-18T17:47:18.031701Z",
            "status": "IN_REVIEW",
            "category": "UTILITY",
            "templateType": "TEXT",
            "language": "SPANISH",
            "buttons": [
                {
                    "url": "https://optiwe.com/es/",
                    "text": "Nuestra web ",
                    "type": "URL",
                    "urlExample": "https://optiwe.com/es/"
                }
            ]
        }]
}`;

// --- Single send: POST /whatsapp-campaigns/customers/ --------------------------------------

/** The manual's three send examples differ only in the message text; each is printed with this envelope. */
function sendRequestBody(text: string): string {
  return `{
    "customerFullName": "Diego Optiwe",
    "customerEmail": "diego@email.com",
    "customerFields": {"dni": 123456789, "customerField1": "value"},
    "customerPhone": "1155174499",
    "customerCountryCode": "+54",
    "overrideCustomerData": true,
    "messagePayload": {
        "text": "${text}"
    }
}`;
}

export const SEND_REQUEST_BODY = sendRequestBody('Hola Diego, queremos recordarle que para el día de hoy a las 15:30 tiene un turno en Centro Medico Deragopyan.');
export const SEND_WITH_BUTTONS_REQUEST_BODY = sendRequestBody(
  'Hola Diego. Puedes llamarnos o vistar nuestra web para responder a tu consulta | [Llamanos,543424010203] | [Nuestra web,https://example.com/bob/]',
);
export const SEND_WITH_QUICK_REPLY_REQUEST_BODY = sendRequestBody('Hola. Responde este mensaje para actualizar tu consulta | [Responder]');

/** 201 with an empty body: sent, with no message id. */
export const SEND_201_BODY = '';

function errorBody(key: string, message: string): string {
  return `{
    "error": {
        "key": "${key}",
        "message": "${message}"
    }
}`;
}

export const SEND_TEMPLATE_NOT_FOUND_400_BODY = errorBody('TEMPLATE_NOT_FOUND', 'The text sent do not match any template format.');
export const SEND_TEMPLATE_NOT_APPROVED_400_BODY = errorBody('TEMPLATE_NOT_APPROVED', 'Template can not be used because is not approved.');
export const INVALID_WHATSAPP_NUMBER_400_BODY = errorBody(
  'INVALID_WHATSAPP_NUMBER',
  'Whatsapp number is not valid. Please, check if the country code and phone number are correct',
);
export const CUSTOMER_OPTED_OUT_400_BODY = errorBody(
  'CUSTOMER_OPTED_OUT',
  'Message will not be sent because the customer has opted out for outbound messages',
);
export const OUTBOUND_LIMIT_EXCEEDED_400_BODY = errorBody('WHATSAPP_OUTBOUND_LIMIT_EXCEEDED', 'Outbound message exceeds available tier limit');
export const INVALID_CUSTOMER_FIELDS_400_BODY = errorBody(
  'INVALID_CUSTOMER_FIELDS',
  'Customer fields {invalid_customer_fields} do not exist in workspace. Valid fields are {valid_customer_fields}',
);
export const REQUESTS_LIMIT_REACHED_400_BODY = errorBody(
  'REQUESTS_LIMIT_REACHED',
  'Maximum amount of HTTP request reached for endpoint /whatsapp-campaigns/customers/',
);

// --- Bulk send: POST /whatsapp-campaigns/bulk/customers/ ------------------------------------

/**
 * The manual's bulk request with its comments dropped, `...` dropped, and the JS-style numeric
 * keys of templatePlaceholders written as the JSON strings they must be on the wire.
 */
export const BULK_REQUEST = {
  templateId: 10,
  campaignName: 'Mi campaña con template 1',
  customers: [
    {
      countryCode: '+54',
      phone: '3442000000',
      fullName: 'Customer1',
      email: 'customer1@example.com',
      extraFields: { street: 'Street 1' },
      templatePlaceholders: { '1': 'Nombre', '2': 'Segundo nombre' },
    },
  ],
} as const;

/** 201. The manual's `"INVALID_EXTRA_FIELDS" | "INVALID_NUMBER"` is transcribed as one entry of each. */
export const BULK_201_BODY = `{
     "campaignId": 1,
     "invalidCustomers" : [
         {
             "phone" : "+543442567890",
             "reason" : "INVALID_EXTRA_FIELDS"
         },
         {
             "phone" : "+543442567891",
             "reason" : "INVALID_NUMBER"
         }
     ]
}`;

export const BULK_TEMPLATE_NOT_FOUND_400_BODY = errorBody('TEMPLATE_NOT_FOUND', 'Template 10, not found');
export const BULK_TEMPLATE_NOT_APPROVED_400_BODY = errorBody('TEMPLATE_NOT_APPROVED', 'Template 10 is not approved');
/** 422. The manual's trailing `, ...` inside the list is dropped. */
export const BULK_INVALID_TEMPLATE_PLACEHOLDER_422_BODY = errorBody(
  'INVALID_TEMPLATE_PLACEHOLDER',
  "Invalid placeholders for customers ['+543442506786', '+112345454']",
);
export const OUTBOUND_NOT_ENABLED_400_BODY = errorBody('WHATSAPP_OUTBOUND_NOT_ENABLED', 'Whatsapp outbound config not enabled');
