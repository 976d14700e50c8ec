// The handlers of the Go example action worker, as flo-rx handlers.
import { NonRetryableError, type ActionHandlers } from '../../../src/client/actions.js';

interface Order {
  orderId: string;
  amount: number;
  customerId: string;
}

export const orderHandlers: ActionHandlers = {
  'validate-payment': (t) => {
    const o = t.data<Order>();
    if (!(o.amount > 0)) throw new NonRetryableError('amount must be positive');
    return { ...o, valid: true };
  },
  'process-payment': (t) => {
    const o = t.data<Order>();
    if (o.orderId.startsWith('FB-') || o.amount > 5000) throw new NonRetryableError('card declined');
    return { charged: true, transactionId: `TXN-${o.orderId}` };
  },
  'process-payment-fallback': (t) => {
    const o = t.data<Order>();
    if (o.amount > 5000) throw new NonRetryableError('declined by fallback');
    return { charged: true, provider: 'fallback' };
  },
  'fulfill-order': async (t) => ({ fulfilled: true, orderId: t.data<Order>().orderId }),
  'send-confirmation': (t) => ({ channel: 'email', orderId: t.data<Order>().orderId, sent: true }),
  'send-rejection': (t) => ({ orderId: t.data<Order>().orderId, rejected: true }),
};

export const expenseHandlers: ActionHandlers = {
  'validate-expense': (t) => ({ expense: t.data<{ expense: string }>().expense, valid: true }),
  'process-expense': (t) => ({ expense: t.data<{ expense: string }>().expense, processed: true }),
};
