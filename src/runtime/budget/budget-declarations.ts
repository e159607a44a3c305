import { DeclarationRegistry, type Declaration } from '../declarations';
import type { OptionChecker } from '../validation';
import type { RetryBudgetSettings } from './budget-options';

/** A named retry budget: every method that names it shares it, with the same settings. */
export type BudgetDeclaration = Declaration<RetryBudgetSettings>;

const budgets = new DeclarationRegistry<RetryBudgetSettings>('retry budget');

/** Declares a named budget at class definition; one name with other settings is a ConfigError. */
export function declareBudget(
  settings: RetryBudgetSettings,
  checker: OptionChecker,
): BudgetDeclaration {
  return budgets.declare(settings.name as string, settings, true, checker);
}
