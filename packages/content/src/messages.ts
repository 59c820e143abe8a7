/** Messages both implementations answer the same way (the parity suite compares them). */
export const DUPLICATE_SUBSCRIBER_MESSAGE = 'This email address is already subscribed.';
