"""Every change this bot makes to botbuilder 4.17.1 and msrest behaviour (DESIGN.md section 7), one module per fix."""
